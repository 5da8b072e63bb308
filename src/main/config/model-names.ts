import type { ModelConfig } from './model-config.js';
import type { TenancyConfig } from './tenant-config.js';

/*
 * Model names under tenancy: the manager knows each model by its internal name, `tenant/name`
 * for a tenant's own model and `name` for a shared one. Config validation and the tenancy
 * runtime (namespaces, placement) share these rules, so they live in the lower layer.
 */

/** Separates tenant and model in internal names (model and tenant names cannot contain it). */
export const NAMESPACE_SEPARATOR = '/';

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
