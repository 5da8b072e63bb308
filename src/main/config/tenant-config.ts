import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { ConfigError } from './config-error.js';
import { deepFreeze } from './deep-freeze.js';
import type { SchemaType } from './schema-type.js';

/*
 * The tenancy part of the YAML config, e.g.
 *
 *   admin_keys: [{ env: TENSORSERVE_ADMIN_KEY }]
 *   admin_client_cert_subjects: [ops-console]
 *   metrics_keys: [{ file: secrets/prometheus.key }]   # may only scrape the metrics endpoints
 *   tenants:
 *     - id: acme
 *       api_keys: [{ env: ACME_KEY }, { file: secrets/acme.key }, { sha256: "9f86d0..." }]
 *       client_cert_subjects: [acme-batch-client]   # certificate CN under mutual TLS
 *       weight: 2
 *       shared_models: [mnist]                      # shared (tenant-less) models it may read; '*' = all
 *       quotas:
 *         requests_per_second: 100
 *         burst: 200
 *         max_queued: 64
 *         max_in_flight: 8
 *         max_memory_bytes: 2147483648
 *
 * API keys never appear in clear text: `sha256` is the hex digest of the key, `env` names an
 * environment variable and `file` a file (relative to the config's directory) holding the key.
 * Env and file keys are read at start-up and again on every config reload (key rotation), hashed,
 * and only the digest is kept.
 */

/** Quotas of one tenant; 0 means unlimited everywhere. */
export interface TenantQuotas {
  /** Token bucket refill rate (requests per second). */
  readonly requestsPerSecond: number;
  /** Token bucket capacity; defaults to max(1, ceil(requestsPerSecond)). */
  readonly burst: number;
  /** Admitted requests waiting to run; over it → RESOURCE_EXHAUSTED. */
  readonly maxQueued: number;
  /** Requests of the tenant running at once; the dispatcher holds the rest back. */
  readonly maxInFlight: number;
  /** Bytes of loaded models the tenant may hold. */
  readonly maxMemoryBytes: number;
}

/** One resolved tenant. Holds key digests only; safe to keep for the server's lifetime. */
export interface TenantConfig {
  readonly id: string;
  /** Lowercase hex SHA-256 digests of the tenant's API keys. Never log them. */
  readonly apiKeyDigests: readonly string[];
  /** Client certificate subject CNs that identify this tenant under mutual TLS. */
  readonly clientCertSubjects: readonly string[];
  /** Share of the scheduler under contention (deficit round robin weight). */
  readonly weight: number;
  /** Names of shared (tenant-less) models this tenant may see; `*` = all of them. */
  readonly sharedModels: readonly string[];
  readonly quotas: TenantQuotas;
}

/** The resolved tenancy configuration. `enabled` is false when no tenants are configured. */
export interface TenancyConfig {
  readonly enabled: boolean;
  readonly tenants: readonly TenantConfig[];
  readonly adminKeyDigests: readonly string[];
  readonly adminCertSubjects: readonly string[];
  /** Digests of scrape-only keys: they open the Prometheus endpoints and nothing else. */
  readonly metricsKeyDigests: readonly string[];
}

/** Tenancy off: the open single-tenant server. */
export const TENANCY_OFF: TenancyConfig = Object.freeze({
  enabled: false,
  tenants: Object.freeze([]),
  adminKeyDigests: Object.freeze([]),
  adminCertSubjects: Object.freeze([]),
  metricsKeyDigests: Object.freeze([]),
});

const nonNegativeInt = { type: 'integer', minimum: 0 } as const;
const nameList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
/* Key references are checked by resolveTenancy, which explains what to write instead of clear text. */
const keyRefList = {
  type: 'array',
  items: { description: '{ sha256: <hex digest> } | { env: <VARIABLE> } | { file: <path> }' },
} as const;

/** JSON schema (draft-07) of one tenant entry. */
export const tenantSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string', pattern: '^[^/:\\s]+$' },
    api_keys: keyRefList,
    client_cert_subjects: nameList,
    weight: { type: 'number', exclusiveMinimum: 0 },
    shared_models: nameList,
    quotas: {
      type: 'object',
      additionalProperties: false,
      properties: {
        requests_per_second: { type: 'number', minimum: 0 },
        burst: nonNegativeInt,
        max_queued: nonNegativeInt,
        max_in_flight: nonNegativeInt,
        max_memory_bytes: nonNegativeInt,
      },
    },
  },
} as const;

/** Schema properties to merge into the root of the server config schema. */
export const tenancySchemaProperties = {
  tenants: { type: 'array', default: [], items: tenantSchema },
  admin_keys: keyRefList,
  admin_client_cert_subjects: nameList,
  metrics_keys: keyRefList,
} as const;

/** One tenant entry as the schema validated it. Key references are `unknown` until resolved. */
export type RawTenant = SchemaType<typeof tenantSchema>;

/**
 * The config keys this module owns (top level of the server config), as the config schema
 * validated them; a key left out is empty.
 */
export type RawTenancySection = Partial<
  SchemaType<{ readonly type: 'object'; readonly properties: typeof tenancySchemaProperties }>
>;

export interface ResolveOptions {
  /** Where `env` keys are read; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads a `file` key; defaults to fs.readFileSync(path, 'utf8'). */
  readonly readFile?: (file: string) => string;
  /** Directory relative `file` paths resolve against; defaults to the working directory. */
  readonly baseDir?: string;
  /** Names the config in errors. */
  readonly source?: string;
}

/** Lowercase hex SHA-256 of a key as clients send it. */
export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Resolves every key reference of the tenancy keys to its digest and checks what the schema
 * cannot (key references, unique identities, quota combinations). The structure was
 * validated with the rest of the config (tenancySchemaProperties are part of the config
 * schema); this does not validate it again. Called once at start-up (and on config reload)
 * by the config loader. Throws ConfigError naming every problem; messages name env
 * variables and files, never key values.
 */
export function resolveTenancy(raw: RawTenancySection, options: ResolveOptions = {}): TenancyConfig {
  const source = options.source ?? 'tenancy';
  const tenants = raw.tenants ?? [];
  const problems: string[] = [];
  const resolver = new KeyResolver(options, problems);
  const adminKeyDigests = resolver.resolveAll(raw.admin_keys ?? [], 'admin_keys');
  const adminCertSubjects = [...(raw.admin_client_cert_subjects ?? [])];
  const metricsKeyDigests = resolver.resolveAll(raw.metrics_keys ?? [], 'metrics_keys');
  const resolved = tenants.map((t, i) => resolveTenant(t, `tenants[${i}]`, resolver, problems));
  if (
    tenants.length === 0 &&
    (adminKeyDigests.length > 0 || adminCertSubjects.length > 0 || metricsKeyDigests.length > 0)
  ) {
    problems.push(
      'admin_keys, admin_client_cert_subjects and metrics_keys need a tenants section (without tenants the server is open)',
    );
  }
  checkUnique(resolved, adminKeyDigests, adminCertSubjects, problems);
  for (const d of metricsKeyDigests) {
    const owner = adminKeyDigests.includes(d)
      ? 'admin_keys'
      : resolved.find((t) => t.apiKeyDigests.includes(d))?.id;
    if (owner !== undefined) problems.push(`metrics_keys shares an API key with ${owner}`);
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze({
    enabled: resolved.length > 0,
    tenants: resolved,
    adminKeyDigests,
    adminCertSubjects,
    metricsKeyDigests,
  });
}

function resolveTenant(t: RawTenant, where: string, resolver: KeyResolver, problems: string[]): TenantConfig {
  const apiKeyDigests = resolver.resolveAll(t.api_keys ?? [], `${where}.api_keys`);
  const clientCertSubjects = [...(t.client_cert_subjects ?? [])];
  // Broken key references are reported on their own; this is for a tenant that names none.
  if ((t.api_keys ?? []).length === 0 && clientCertSubjects.length === 0) {
    problems.push(
      `${where} (tenant '${t.id}') needs at least one api_keys entry or client_cert_subjects entry`,
    );
  }
  const q = t.quotas ?? {};
  const d = CONFIG_DEFAULTS.tenant;
  const requestsPerSecond = q.requests_per_second ?? d.requestsPerSecond;
  const burst = q.burst ?? (requestsPerSecond > 0 ? Math.max(1, Math.ceil(requestsPerSecond)) : 0);
  if (requestsPerSecond > 0 && burst < 1)
    problems.push(`${where}.quotas.burst must be >= 1 when requests_per_second is set`);
  if (q.burst !== undefined && requestsPerSecond === 0) {
    problems.push(`${where}.quotas.burst needs quotas.requests_per_second`);
  }
  return {
    id: t.id,
    apiKeyDigests,
    clientCertSubjects,
    weight: t.weight ?? d.weight,
    sharedModels: [...new Set(t.shared_models ?? [])],
    quotas: {
      requestsPerSecond,
      burst,
      maxQueued: q.max_queued ?? d.maxQueued,
      maxInFlight: q.max_in_flight ?? d.maxInFlight,
      maxMemoryBytes: q.max_memory_bytes ?? d.maxMemoryBytes,
    },
  };
}

/** Turns key references into digests; the clear text of env/file keys lives only inside resolve(). */
class KeyResolver {
  constructor(
    private readonly options: ResolveOptions,
    private readonly problems: string[],
  ) {}

  resolveAll(refs: readonly unknown[], where: string): string[] {
    const out: string[] = [];
    refs.forEach((ref, i) => {
      const digest = this.resolve(ref, `${where}[${i}]`);
      if (digest !== undefined) out.push(digest);
    });
    return out;
  }

  private resolve(ref: unknown, where: string): string | undefined {
    const hint = 'use { sha256: <hex digest of the key> }, { env: <VARIABLE> } or { file: <path> }';
    if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) {
      return this.problem(`${where} is a clear-text API key, which is not allowed in config: ${hint}`);
    }
    const keys = Object.keys(ref);
    const known = keys.filter((k) => k === 'sha256' || k === 'env' || k === 'file');
    if (keys.length !== 1 || known.length !== 1) {
      const clear = keys.some((k) => !['sha256', 'env', 'file'].includes(k));
      return this.problem(
        clear
          ? `${where} has unknown key(s) ${keys.map((k) => `'${k}'`).join(', ')}; clear-text API keys are not allowed in config: ${hint}`
          : `${where} must have exactly one of sha256, env, file`,
      );
    }
    const value = (ref as Record<string, unknown>)[known[0]];
    if (typeof value !== 'string' || value.length === 0)
      return this.problem(`${where}.${known[0]} must be a non-empty string`);
    switch (known[0]) {
      case 'sha256':
        if (!/^[0-9a-fA-F]{64}$/.test(value))
          return this.problem(`${where}.sha256 must be 64 hex digits (a SHA-256 digest)`);
        return value.toLowerCase();
      case 'env': {
        const key = (this.options.env ?? process.env)[value]?.trim();
        if (!key) return this.problem(`${where}: environment variable ${value} is not set or empty`);
        return sha256Hex(key);
      }
      default: {
        const file = path.resolve(this.options.baseDir ?? process.cwd(), value);
        let key: string;
        try {
          key = (this.options.readFile ?? ((f: string) => readFileSync(f, 'utf8')))(file).trim();
        } catch (err) {
          return this.problem(
            `${where}: cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
          );
        }
        if (!key) return this.problem(`${where}: key file ${file} is empty`);
        return sha256Hex(key);
      }
    }
  }

  private problem(message: string): undefined {
    this.problems.push(message);
    return undefined;
  }
}

function checkUnique(
  tenants: readonly TenantConfig[],
  adminKeyDigests: readonly string[],
  adminCertSubjects: readonly string[],
  problems: string[],
): void {
  const ids = new Set<string>();
  const keyOwner = new Map<string, string>(adminKeyDigests.map((d) => [d, 'admin_keys']));
  const cnOwner = new Map<string, string>(adminCertSubjects.map((cn) => [cn, 'admin_client_cert_subjects']));
  for (const t of tenants) {
    if (ids.has(t.id)) problems.push(`tenants has duplicate id '${t.id}'`);
    ids.add(t.id);
    for (const d of t.apiKeyDigests) {
      const owner = keyOwner.get(d);
      // Same key for two identities would make the caller ambiguous; never print the key.
      if (owner !== undefined && owner !== t.id)
        problems.push(`tenant '${t.id}' shares an API key with ${owner}`);
      keyOwner.set(d, t.id);
    }
    for (const cn of t.clientCertSubjects) {
      const owner = cnOwner.get(cn);
      if (owner !== undefined && owner !== t.id) {
        problems.push(`tenant '${t.id}' client certificate subject '${cn}' is also used by ${owner}`);
      }
      cnOwner.set(cn, t.id);
    }
  }
}
