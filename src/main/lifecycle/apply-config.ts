import { restartOnlyChanges, sameValue } from '../config/config-diff.js';
import { ConfigError } from '../config/config-error.js';
import type { ModelConfig } from '../config/model-config.js';
import type { ServerConfig } from '../config/server-config.js';
import type { TenancyServices } from '../tenancy/tenancy-services.js';
import type { LifecycleLogger } from './logger.js';

/** What a config reload may change in a running server (TensorServe wires it). */
export interface ReloadTarget {
  readonly tenancy: TenancyServices;
  /**
   * Re-batches the models that stay and serves exactly this list, by the config's names
   * (ServerCore.applyConfig); resolves when the new versions settled.
   */
  applyModels(models: readonly ModelConfig[]): Promise<void>;
  /** A tenant's share of the batches on each device. */
  setTenantWeight(tenant: string, weight: number): void;
  setLogLevel(level: string): void;
  readonly logger: LifecycleLogger;
}

/**
 * Applies a reloaded config: tenants (keys, certificate subjects, shared models, quotas,
 * weights) first, so a new tenant's models find their tenant; the log level; then the model
 * list through ServerCore (batching of models that stay loaded, then the list itself: TF
 * Serving's reload, models not listed are unloaded). Settings that need a restart (listeners, pools, limits) are
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
  if (next.logLevel !== current.logLevel) target.setLogLevel(next.logLevel);
  await target.applyModels(next.models);
}
