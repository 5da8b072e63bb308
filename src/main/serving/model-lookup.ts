import type { CallerIdentity } from '../../core/caller-identity.js';
import type { ModelNamespace as TenantNamespaces } from '../tenancy/namespace.js';

/**
 * Maps the model names callers use to the names the lifecycle manager knows. With tenancy
 * off every name maps to itself; with tenancy on, a tenant's `fraud` is `<tenant>/fraud`
 * internally and other tenants' models are invisible (reported exactly like a missing model).
 */
export interface ModelLookup {
  /** Internal name for `name` as seen by `caller`; a name the caller may not see maps to a name no model has. */
  resolve(caller: CallerIdentity | undefined, name: string): string;
  /** Names (as the caller would write them) of the internal models the caller may see. */
  visibleModels(caller: CallerIdentity | undefined, internalNames: readonly string[]): string[];
}

/** Single-tenant namespace: names are used as they are. */
export const OPEN_LOOKUP: ModelLookup = {
  resolve: (_caller, name) => name,
  visibleModels: (_caller, names) => [...names],
};

/**
 * The multi-tenant namespace over the tenancy module's rules. `exists(internal)` tells whether
 * the manager's model list holds that internal name (a tenant's own model wins over a shared
 * one of the same name).
 */
export function tenantLookup(
  namespaces: TenantNamespaces,
  exists: (internal: string) => boolean,
): ModelLookup {
  return {
    resolve: (caller, name) => namespaces.lookupName(caller, name, exists),
    visibleModels: (caller, names) => namespaces.visibleNames(caller, names),
  };
}
