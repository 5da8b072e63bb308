import type { Clock } from '../../core/clock.js';
import { sameValue } from '../config/config-diff.js';
import type { ModelConfig, TransitionPolicyName } from '../config/model-config.js';
import { FALLBACK_MODEL_SETTINGS, type ModelSettings } from '../config/model-server-objects.js';
import type { VersionLoader } from './loader.js';
import { type LifecycleLogger, silentLogger } from './logger.js';
import { ServableManager } from './manager.js';
import { ConfiguredModelRepository, type ModelRepository } from './model-repository.js';
import { type ServableEntry, type ServableInfo, ServableRegistry } from './servable-registry.js';
import type { ListDir } from './source.js';

/** The loader ServerCore drives: a VersionLoader that can re-batch a model's loaded versions. */
export interface CoreLoader extends VersionLoader {
  /** Gives a model's loaded versions its (new) batching options (a config reload). */
  rebatch?(model: ModelConfig): void;
}

export interface ServerCoreOptions {
  /** Builds the loader, given the registry it records every loaded key in. */
  readonly loader: (registry: ServableRegistry) => CoreLoader;
  /** The model list at start, by the names the config gives. */
  readonly models: readonly ModelConfig[];
  /**
   * The manager's name and tenant of a configured model (tenancy: `tenant/name`); identity
   * when absent. Applied to every list that comes in, on every path.
   */
  readonly toManaged?: (model: ModelConfig) => ModelConfig;
  /**
   * Settings for a model a TF Serving model list names that the server does not know (the
   * YAML `model_defaults`); FALLBACK_MODEL_SETTINGS when absent.
   */
  readonly defaults?: (name: string) => ModelSettings;
  /** Source poll period of the manager (see ServableManagerOptions.pollIntervalMs). */
  readonly pollIntervalMs: number;
  readonly clock?: Clock;
  readonly logger?: LifecycleLogger;
  readonly transitionPolicy?: TransitionPolicyName;
  /** Directory listing used by the source (tests). */
  readonly listDir?: ListDir;
}

/**
 * TF Serving's ServerCore: the one owner of the model list and of the registry from servable
 * key to {model, version, device, tenant}. Every path that changes what is served goes
 * through it, and each keeps its own merge rule:
 *
 * - `applyConfig` (YAML hot reload, SIGHUP): the list becomes exactly the config's; models
 *   that stay and whose batching changed are re-batched first.
 * - `reloadModels` (the gRPC ReloadConfig call, a `--model_config_file` poll): exactly these
 *   models are served; the known list keeps the others (so the repository can load them
 *   again), and a model named again replaces its entry.
 * - `repository` (KServe's repository extension): load/unload of a known model changes what
 *   is served, never the known list.
 *
 * Pinned and on-demand models take the same paths: the manager applies each model's
 * residency itself. Metrics and reports read the registry through `servable` and
 * `servables` only; the manager (`manager`) serves handles, statuses and readiness.
 */
export class ServerCore {
  readonly manager: ServableManager;
  /** The KServe model repository over the known list (see ConfiguredModelRepository). */
  readonly repository: ModelRepository;
  readonly #registry = new ServableRegistry();
  readonly #loader: CoreLoader;
  readonly #toManaged: (model: ModelConfig) => ModelConfig;
  readonly #defaults: (name: string) => ModelSettings;
  readonly #logger: LifecycleLogger;
  /** Every model the server knows (config, reloads), by the manager's names. */
  #known: readonly ModelConfig[];

  constructor(options: ServerCoreOptions) {
    this.#toManaged = options.toManaged ?? ((m) => m);
    this.#defaults = options.defaults ?? (() => FALLBACK_MODEL_SETTINGS);
    this.#logger = options.logger ?? silentLogger;
    this.#loader = options.loader(this.#registry);
    this.manager = new ServableManager({
      loader: this.#loader,
      pollIntervalMs: options.pollIntervalMs,
      clock: options.clock,
      logger: options.logger,
      transitionPolicy: options.transitionPolicy,
      listDir: options.listDir,
    });
    this.#known = options.models.map(this.#toManaged);
    this.repository = new ConfiguredModelRepository({
      configured: () => this.#known,
      served: () => this.manager.modelNames(),
      status: (name) => this.manager.status(name),
      apply: (models) => this.manager.setModels(models),
    });
  }

  /** Loads the start-up list; resolves once its versions are AVAILABLE or failed (setModels). */
  loadInitial(): Promise<void> {
    return this.manager.setModels(this.#known);
  }

  /** Every model the server knows, by the manager's names (served or unloaded through the repository). */
  configured(): readonly ModelConfig[] {
    return this.#known;
  }

  /**
   * What a TF Serving model list cannot say about `name` (device, batching, retries, ...): the
   * known model's own settings, else the defaults. `name` is matched as given.
   */
  modelSettings(name: string): ModelSettings {
    return this.#known.find((m) => m.name === name) ?? this.#defaults(name);
  }

  /**
   * Serves exactly `models` (a ReloadConfig call, a model config file poll); the known list
   * keeps the models not named. Resolves as ServableManager.setModels.
   */
  async reloadModels(models: readonly ModelConfig[]): Promise<void> {
    const managed = models.map(this.#toManaged);
    const known = new Map(this.#known.map((m) => [m.name, m]));
    for (const m of managed) known.set(m.name, m);
    this.#known = [...known.values()];
    await this.manager.setModels(managed);
  }

  /**
   * A reloaded YAML's model list (call after the tenants are updated, so a new tenant's models
   * find it): a model that stays and whose batching changed gets the new options on its loaded
   * versions, then exactly this list is known and served. Resolves as setModels.
   */
  async applyConfig(models: readonly ModelConfig[]): Promise<void> {
    const managed = models.map(this.#toManaged);
    const before = new Map(this.#known.map((m) => [m.name, m]));
    for (const m of managed) {
      const old = before.get(m.name);
      if (old !== undefined && !sameValue(old.batching, m.batching)) {
        this.#loader.rebatch?.(m);
        this.#logger.info({ model: m.name }, 'config reload: batching updated');
      }
    }
    this.#known = managed;
    await this.manager.setModels(managed);
  }

  /** What a servable key is; undefined once it is unloaded (or never was). */
  servable(key: string): ServableInfo | undefined {
    return this.#registry.get(key);
  }

  /** Every version held on a device now, with its key. */
  servables(): ServableEntry[] {
    return this.#registry.entries();
  }
}
