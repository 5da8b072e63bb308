import { ServingError } from '../../core/errors.js';
import type { VersionStatus } from '../../core/version-status.js';
import type { ModelConfig } from '../config/model-config.js';

/** One row of the KServe repository index. */
export interface RepositoryEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  readonly reason: string;
}

/**
 * The KServe repository extension over the configured model list: every configured model
 * can be unloaded (removed from the served set) and loaded again. Changes go through the
 * same path as a config reload.
 */
export interface ModelRepository {
  index(): RepositoryEntry[];
  load(name: string): Promise<void>;
  unload(name: string): Promise<void>;
}

export interface RepositoryDeps {
  /** All models the repository knows (the configured list). */
  readonly configured: () => readonly ModelConfig[];
  /** Names currently served, and their version statuses. */
  readonly served: () => readonly string[];
  readonly status: (name: string) => VersionStatus[];
  /** Applies a new served list; resolves when it has settled. */
  readonly apply: (models: readonly ModelConfig[]) => Promise<void>;
}

export class ConfiguredModelRepository implements ModelRepository {
  constructor(private readonly deps: RepositoryDeps) {}

  index(): RepositoryEntry[] {
    const served = new Set(this.deps.served());
    const rows: RepositoryEntry[] = [];
    for (const m of this.deps.configured()) {
      if (!served.has(m.name)) {
        rows.push({ name: m.name, state: 'UNAVAILABLE', reason: 'unloaded' });
        continue;
      }
      for (const s of this.deps.status(m.name)) {
        const state =
          s.state === 'AVAILABLE'
            ? 'READY'
            : s.state === 'LOADING' || s.state === 'START'
              ? 'LOADING'
              : s.state === 'UNLOADING'
                ? 'UNLOADING'
                : 'UNAVAILABLE';
        rows.push({ name: m.name, version: String(s.version), state, reason: s.errorMessage });
      }
    }
    return rows;
  }

  async load(name: string): Promise<void> {
    const model = this.find(name);
    const served = new Set(this.deps.served());
    served.add(model.name);
    await this.deps.apply(this.deps.configured().filter((m) => served.has(m.name)));
    const failed = this.deps.status(name).filter((s) => s.state === 'END' && s.errorCode !== 'OK');
    if (failed.length > 0 && !this.deps.status(name).some((s) => s.state === 'AVAILABLE')) {
      throw new ServingError('INTERNAL', `Failed to load '${name}': ${failed[0].errorMessage}`);
    }
  }

  async unload(name: string): Promise<void> {
    this.find(name);
    const served = new Set(this.deps.served());
    served.delete(name);
    await this.deps.apply(this.deps.configured().filter((m) => served.has(m.name)));
  }

  private find(name: string): ModelConfig {
    const model = this.deps.configured().find((m) => m.name === name);
    if (!model) throw new ServingError('NOT_FOUND', `Model '${name}' is not in the model repository`);
    return model;
  }
}
