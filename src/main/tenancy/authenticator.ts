import { createHash, timingSafeEqual } from 'node:crypto';
import type { CallerIdentity } from '../../core/caller-identity.js';
import { ServingError } from '../../core/errors.js';
import type { TenancyConfig } from '../config/tenant-config.js';

/**
 * What a front end extracts from a call, untouched:
 * - REST: `authorization` and `x-api-key` headers; gRPC: the `authorization` and `x-api-key`
 *   metadata values;
 * - `clientCertCN`: the subject CN of a client certificate the TLS layer has already
 *   verified against the configured CA (mutual TLS). Pass it only when
 *   `socket.authorized` is true.
 */
export interface Credentials {
  readonly authorization?: string;
  readonly apiKey?: string;
  readonly clientCertCN?: string;
}

/**
 * Identity when tenancy is off: the open single-tenant server, where every caller may see
 * every model and use the management APIs, exactly as before tenants existed.
 */
export const OPEN_IDENTITY: CallerIdentity = Object.freeze({ tenant: undefined, admin: true });
/** Identity of a caller holding an admin key or admin certificate: no tenant, sees everything. */
export const ADMIN_IDENTITY: CallerIdentity = Object.freeze({ tenant: undefined, admin: true });

const BEARER = /^bearer[ \t]+(.+)$/i;

/**
 * Maps credentials to a caller. Built once from the resolved TenancyConfig; front ends call
 * `authenticate` for every request before anything else.
 *
 * Precedence: an API key (Bearer token, else `x-api-key`) when one is presented, else the
 * client certificate. A presented key that matches nothing fails even if a certificate would
 * match, so a wrong key is never silently ignored.
 *
 * Throws ServingError UNAUTHENTICATED (HTTP 401): `Missing API key` when no credential is
 * presented, `Invalid API key` when the key (or an Authorization header that is not Bearer)
 * matches nothing, `Client certificate is not authorized` for an unmapped certificate CN.
 * Messages never contain the key.
 */
/** What admitted a metrics scrape: tenancy off, a `metrics_keys` key, or an admin credential. */
export type ScrapeGrant = 'open' | 'metrics-key' | 'admin';

export class Authenticator {
  private readonly entries: readonly { digest: Buffer; identity: CallerIdentity }[];
  private readonly byCertCN: ReadonlyMap<string, CallerIdentity>;
  private readonly metricsDigests: readonly Buffer[];

  constructor(private readonly tenancy: TenancyConfig) {
    this.metricsDigests = tenancy.metricsKeyDigests.map((d) => Buffer.from(d, 'hex'));
    const entries: { digest: Buffer; identity: CallerIdentity }[] = [];
    const byCertCN = new Map<string, CallerIdentity>();
    for (const d of tenancy.adminKeyDigests)
      entries.push({ digest: Buffer.from(d, 'hex'), identity: ADMIN_IDENTITY });
    for (const cn of tenancy.adminCertSubjects) byCertCN.set(cn, ADMIN_IDENTITY);
    for (const t of tenancy.tenants) {
      const identity: CallerIdentity = Object.freeze({ tenant: t.id, admin: false });
      for (const d of t.apiKeyDigests) entries.push({ digest: Buffer.from(d, 'hex'), identity });
      for (const cn of t.clientCertSubjects) byCertCN.set(cn, identity);
    }
    this.entries = entries;
    this.byCertCN = byCertCN;
  }

  /** False when no tenants are configured; `authenticate` then always returns OPEN_IDENTITY. */
  get enabled(): boolean {
    return this.tenancy.enabled;
  }

  authenticate(credentials: Credentials): CallerIdentity {
    if (!this.tenancy.enabled) return OPEN_IDENTITY;
    const key = presentedKey(credentials);
    if (key !== undefined) {
      const identity = key === '' ? undefined : this.matchKey(key);
      if (identity === undefined) throw new ServingError('UNAUTHENTICATED', 'Invalid API key');
      return identity;
    }
    const cn = credentials.clientCertCN;
    if (cn !== undefined && cn !== '') {
      const identity = this.byCertCN.get(cn);
      if (identity === undefined)
        throw new ServingError('UNAUTHENTICATED', 'Client certificate is not authorized');
      return identity;
    }
    throw new ServingError('UNAUTHENTICATED', 'Missing API key');
  }

  /**
   * Admits a scrape of the metrics endpoints, which name every tenant's models: open when
   * tenancy is off; else a `metrics_keys` key or an admin credential. Throws ServingError
   * UNAUTHENTICATED (as `authenticate`) for missing or unknown credentials, PERMISSION_DENIED
   * (HTTP 403) for a tenant. Returns what admitted the scrape.
   */
  authorizeScrape(credentials: Credentials): ScrapeGrant {
    if (!this.tenancy.enabled) return 'open';
    const key = presentedKey(credentials);
    if (key) {
      const digest = createHash('sha256').update(key, 'utf8').digest();
      let scrape = false;
      for (const d of this.metricsDigests) if (timingSafeEqual(digest, d)) scrape = true;
      if (scrape) return 'metrics-key';
    }
    if (!this.authenticate(credentials).admin)
      throw new ServingError('PERMISSION_DENIED', 'The metrics endpoints need an admin or metrics key');
    return 'admin';
  }

  /** Compares against every digest without stopping early, so timing reveals nothing. */
  private matchKey(key: string): CallerIdentity | undefined {
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found: CallerIdentity | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(digest, e.digest) && found === undefined) found = e.identity;
    }
    return found;
  }
}

/**
 * The key the caller presented: the Bearer token, else `x-api-key`. Returns '' for an
 * Authorization header that is present but not a usable Bearer token (→ Invalid API key),
 * undefined when no key was presented at all.
 */
function presentedKey(c: Credentials): string | undefined {
  const auth = c.authorization?.trim();
  if (auth) {
    const m = BEARER.exec(auth);
    if (m) return m[1].trim();
    if (!c.apiKey?.trim()) return '';
  }
  const apiKey = c.apiKey?.trim();
  return apiKey ? apiKey : undefined;
}
