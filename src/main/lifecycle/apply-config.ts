import { restartOnlyChanges, sameValue } from '../config/config-diff.js';
import { ConfigError } from '../config/config-error.js';
import type { ModelConfig } from '../config/model-config.js';
import type { ServerConfig } from '../config/server-config.js';
import type { TenancyServices } from '../tenancy/tenancy-services.js';
import type { LifecycleLogger } from './logger.js';

/** What a config reload may change in a running server (TensorServe wires it). */
export interface ReloadTarget {
  readonly tenancy: TenancyServices;
  /** The model list in effect, by the names the manager knows (tenant models as `tenant/name`). */
  configured(): readonly ModelConfig[];
  /** Realizes exactly this model list (manager names); resolves when the new versions settled. */
  setModels(models: readonly ModelConfig[]): Promise<void>;
  /** Gives a model's loaded versions its (new) batching options. */
  rebatch(model: ModelConfig): void;
  /** A tenant's share of the batches on each device. */
  setTenantWeight(tenant: string, weight: number): void;
  setLogLevel(level: string): void;
  readonly logger: LifecycleLogger;
}

/**
 * Applies a reloaded config: tenants (keys, certificate subjects, shared models, quotas,
 * weights) first, so a new tenant's models find their tenant; then batching of models that
 * stay loaded; then the model list itself (TF Serving's reload: models not listed are
 * unloaded); the log level. Settings that need a restart (listeners, pools, limits) are
 * logged by path and left as they are. Throws ConfigError, changing nothing, when the edit
 * turns tenancy on or off; rejects with the manager's error when the model list fails
 * (e.g. a label naming a version that is not AVAILABLE), after tenants and batching applied.
 */
export async function applyConfigReload(
  target: ReloadTarget,
  next: ServerConfig,
  current: ServerConfig,
): Promise<void> {
  const { tenancy, logger } = target;
  if (next.tenancy.enabled !== tenancy.enabled) {
    throw new ConfigError('reload', [
      `tenants: tenancy cannot be turned ${next.tenancy.enabled ? 'on' : 'off'} by a reload; restart the server`,
    ]);
  }
  for (const where of restartOnlyChanges(current, next)) {
    logger.warn({ path: where }, `config reload: ${where} changed; it takes effect after a restart`);
  }
  if (!sameValue(next.tenancy, tenancy.tenancy)) {
    tenancy.update(next.tenancy);
    for (const t of next.tenancy.tenants) target.setTenantWeight(t.id, t.weight);
    logger.info({ tenants: next.tenancy.tenants.map((t) => t.id) }, 'config reload: tenants updated');
  }
  const models = next.models.map((m) => tenancy.toManaged(m));
  const before = new Map(target.configured().map((m) => [m.name, m]));
  for (const m of models) {
    const old = before.get(m.name);
    if (old !== undefined && !sameValue(old.batching, m.batching)) {
      target.rebatch(m);
      logger.info({ model: m.name }, 'config reload: batching updated');
    }
  }
  if (next.logLevel !== current.logLevel) target.setLogLevel(next.logLevel);
  await target.setModels(models);
}
