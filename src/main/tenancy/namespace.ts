import { ServingError } from '../../core/errors.js';
import type { ModelConfig } from '../config/model-config.js';
import type { TenancyConfig } from '../config/tenant-config.js';
import type { VersionSelector } from '../lifecycle/servable.js';
import type { CallerIdentity } from '../serving/inference-core.js';

/** Separates tenant and model in internal names (model and tenant names cannot contain it). */
export const NAMESPACE_SEPARATOR = '/';

/**
 * The error for a model the caller cannot see, identical to the one for a model that does not
 * exist (TF Serving's texts), so a tenant cannot probe for other tenants' models. Built from
 * the name the caller used. The manager should build its own not-found errors with this too.
 */
export function servableNotFound(requestedName: string, selector?: VersionSelector): ServingError {
  switch (selector?.kind) {
    case 'version':
      return new ServingError(
        'NOT_FOUND',
        `Servable not found for request: Specific(${requestedName}, ${selector.version})`,
      );
    case 'label':
      return new ServingError('INVALID_ARGUMENT', `Unrecognized servable version label: ${selector.label}`);
    default:
      return new ServingError('NOT_FOUND', `Servable not found for request: Latest(${requestedName})`);
  }
}

/** Internal (manager) name of a configured model: `tenant/name`, or `name` for a shared model. */
export function internalModelName(model: Pick<ModelConfig, 'name' | 'tenant'>): string {
  return model.tenant === undefined ? model.name : `${model.tenant}${NAMESPACE_SEPARATOR}${model.name}`;
}

/** Splits an internal name into owner and the name its owner uses. */
export function splitInternalName(internal: string): { tenant: string | undefined; name: string } {
  const i = internal.indexOf(NAMESPACE_SEPARATOR);
  return i < 0
    ? { tenant: undefined, name: internal }
    : { tenant: internal.slice(0, i), name: internal.slice(i + 1) };
}

/**
 * Per-tenant model namespaces. Each tenant addresses its own models by their plain names
 * (two tenants may both own `fraud`); shared models (no owner) by their names when listed in
 * the tenant's `shared_models`. A tenant's own model hides a shared model of the same name.
 * Admins (and every caller when tenancy is off) address shared models by name and tenant
 * models as `tenant/name` (URL-encoded as `tenant%2Fname` in REST paths).
 *
 * Pure: it never looks at what is loaded. Callers pass the result of `resolve` to the manager,
 * which raises its own not-found error for a model that is not there (use `servableNotFound`
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
   * Throws `servableNotFound(requestedName, selector)` when the caller may not see the model.
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
      throw servableNotFound(requestedName, selector);
    }
    const own = `${caller.tenant}${NAMESPACE_SEPARATOR}${requestedName}`;
    if (exists(own)) return own;
    if (this.sharedVisible(caller.tenant, requestedName)) return requestedName;
    throw servableNotFound(requestedName, selector);
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

/**
 * Config checks that need both the model list and the tenants; the config loader appends the
 * returned problems to its own. With tenancy on: every model's tenant exists, every listed
 * shared model is a configured shared model, and no two models share an internal name.
 * With tenancy off, a model naming a tenant is a problem.
 */
export function checkModelTenancy(models: readonly ModelConfig[], tenancy: TenancyConfig): string[] {
  const problems: string[] = [];
  const tenantIds = new Set(tenancy.tenants.map((t) => t.id));
  const seen = new Set<string>();
  const sharedNames = new Set<string>();
  models.forEach((m, i) => {
    if (m.tenant !== undefined && !tenancy.enabled) {
      problems.push(`models[${i}].tenant '${m.tenant}' needs a tenants section`);
    } else if (m.tenant !== undefined && !tenantIds.has(m.tenant)) {
      problems.push(`models[${i}].tenant '${m.tenant}' is not a configured tenant`);
    }
    if (m.tenant === undefined) sharedNames.add(m.name);
    const internal = internalModelName(m);
    if (seen.has(internal)) {
      problems.push(
        m.tenant === undefined
          ? `models[${i}].name '${m.name}' is already used by another shared model`
          : `models[${i}].name '${m.name}' is already used by another model of tenant '${m.tenant}'`,
      );
    }
    seen.add(internal);
  });
  tenancy.tenants.forEach((t, i) => {
    for (const name of t.sharedModels) {
      if (name !== '*' && !sharedNames.has(name)) {
        problems.push(
          `tenants[${i}].shared_models names '${name}', which is not a shared model (one without tenant)`,
        );
      }
    }
  });
  return problems;
}
