import type { CallerIdentity } from '../../core/caller-identity.js';
import { notFoundFor } from '../../core/servable-errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import { NAMESPACE_SEPARATOR, splitInternalName } from '../config/model-names.js';
import type { TenancyConfig } from '../config/tenant-config.js';

/**
 * Per-tenant model namespaces. Each tenant addresses its own models by their plain names
 * (two tenants may both own `fraud`); shared models (no owner) by their names when listed in
 * the tenant's `shared_models`. A tenant's own model hides a shared model of the same name.
 * Admins (and every caller when tenancy is off) address shared models by name and tenant
 * models as `tenant/name` (URL-encoded as `tenant%2Fname` in REST paths).
 *
 * Pure: it never looks at what is loaded. Callers pass the result of `resolve` to the manager,
 * which raises its own not-found error for a model that is not there (use `notFoundFor`
 * for it so the two cases read the same).
 */
export class ModelNamespace {
  private shared: ReadonlyMap<string, { all: boolean; names: ReadonlySet<string> }>;

  constructor(private tenancy: TenancyConfig) {
    this.shared = ModelNamespace.sharedOf(tenancy);
  }

  /** Takes a reloaded tenancy (tenants, shared models); the next lookup sees it. */
  update(tenancy: TenancyConfig): void {
    this.tenancy = tenancy;
    this.shared = ModelNamespace.sharedOf(tenancy);
  }

  private static sharedOf(
    tenancy: TenancyConfig,
  ): ReadonlyMap<string, { all: boolean; names: ReadonlySet<string> }> {
    return new Map(
      tenancy.tenants.map((t) => [
        t.id,
        { all: t.sharedModels.includes('*'), names: new Set(t.sharedModels) },
      ]),
    );
  }

  /**
   * Internal name for a request. `exists(internal)` tells whether a model of that internal
   * name is configured; it is consulted to let a tenant's own model win over a shared one.
   * Throws `notFoundFor(requestedName, selector)` when the caller may not see the model.
   */
  resolve(
    caller: CallerIdentity | undefined,
    requestedName: string,
    exists: (internal: string) => boolean,
    selector?: VersionSelector,
  ): string {
    if (!this.tenancy.enabled || caller?.admin) return requestedName;
    // No tenant with tenancy on only happens for a caller nobody authenticated: it sees nothing.
    if (caller?.tenant === undefined || requestedName.includes(NAMESPACE_SEPARATOR)) {
      throw notFoundFor(requestedName, selector);
    }
    const own = `${caller.tenant}${NAMESPACE_SEPARATOR}${requestedName}`;
    if (exists(own)) return own;
    if (this.sharedVisible(caller.tenant, requestedName)) return requestedName;
    throw notFoundFor(requestedName, selector);
  }

  /**
   * Like `resolve`, but never throws: a name the caller may not see maps into the caller's own
   * namespace (`tenant/name`), where no model of that name exists, so the manager raises its
   * own not-found error for it, word for word the one for a missing model (after the caller's
   * view rewrites `tenant/name` back to `name`).
   */
  lookupName(
    caller: CallerIdentity | undefined,
    requestedName: string,
    exists: (internal: string) => boolean,
  ): string {
    if (!this.tenancy.enabled || caller?.admin) return requestedName;
    const own = `${caller?.tenant ?? ''}${NAMESPACE_SEPARATOR}${requestedName}`;
    if (caller?.tenant === undefined || requestedName.includes(NAMESPACE_SEPARATOR)) return own;
    if (exists(own)) return own;
    return this.sharedVisible(caller.tenant, requestedName) ? requestedName : own;
  }

  /** Whether `caller` may see the model with this internal name. */
  canSee(caller: CallerIdentity | undefined, internal: string): boolean {
    if (!this.tenancy.enabled) return true;
    if (caller === undefined) return false;
    if (caller.admin) return true;
    if (caller.tenant === undefined) return false;
    const { tenant, name } = splitInternalName(internal);
    if (tenant !== undefined) return tenant === caller.tenant;
    return this.sharedVisible(caller.tenant, name);
  }

  /** The name `caller` uses for a model it can see (a tenant's own models lose the prefix). */
  externalName(caller: CallerIdentity | undefined, internal: string): string {
    if (!this.tenancy.enabled || caller?.admin || caller?.tenant === undefined) return internal;
    const { tenant, name } = splitInternalName(internal);
    return tenant === caller.tenant ? name : internal;
  }

  /** The names `caller` sees among the given internal names, sorted, without duplicates. */
  visibleNames(caller: CallerIdentity | undefined, internalNames: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const internal of internalNames) {
      if (this.canSee(caller, internal)) out.add(this.externalName(caller, internal));
    }
    return [...out].sort();
  }

  private sharedVisible(tenant: string, name: string): boolean {
    const s = this.shared.get(tenant);
    return s !== undefined && (s.all || s.names.has(name));
  }
}
