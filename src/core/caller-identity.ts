/**
 * Who is calling, as a front end established it from the request's credentials (tenancy's
 * Authenticator builds it); undefined everywhere when tenancy is off. Read by the serving
 * core (namespaces, quotas) and by the admin routes.
 */
export interface CallerIdentity {
  /** The tenant the credentials belong to; undefined for an admin without a tenant. */
  readonly tenant: string | undefined;
  readonly admin: boolean;
}
