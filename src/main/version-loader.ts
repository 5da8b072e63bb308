import { BATCHING_OFF } from '../batching/batching-options.js';
import type { BatchScheduler } from '../batching/scheduler.js';
import { ServingError } from '../core/errors.js';
import type { DevicePool } from '../workers/device-pool.js';
import { detectPlatform, estimateModelBytes } from '../workers/platform.js';
import type { ModelConfig } from './config/model-config.js';
import type { LoadedVersion, VersionLoader } from './lifecycle/loader.js';

let generation = 0;

/**
 * Loads a version directory onto its model's device pool and registers it with the batch
 * scheduler; unloads in the reverse order (the scheduler drains the version's queue first).
 * Keys are unique per load, so a reloaded version never collides with its predecessor.
 */
export class PoolVersionLoader implements VersionLoader {
  /** What each loaded key is, for metrics (pending requests per version). */
  readonly loaded = new Map<
    string,
    { readonly model: string; readonly version: number; readonly device: string }
  >();

  constructor(
    private readonly pools: ReadonlyMap<string, DevicePool>,
    private readonly scheduler: BatchScheduler,
  ) {}

  async load(model: ModelConfig, version: number, versionDir: string): Promise<LoadedVersion> {
    const pool = this.pools.get(model.device);
    if (!pool) throw new ServingError('FAILED_PRECONDITION', `Device '${model.device}' has no worker pool`);
    const platform = model.platform ?? (await detectPlatform(versionDir));
    const estimated = await estimateModelBytes(versionDir);
    const key = `${model.tenant ?? ''}/${model.name}/${version}#${++generation}`;
    const loaded = await pool.load({ key, platform, path: versionDir, instances: model.instances });
    try {
      const batching = loaded.signature.batched ? model.batching : BATCHING_OFF;
      const workers = pool.stats().workers;
      const holders = model.instances === 0 ? workers : Math.min(model.instances, workers);
      this.scheduler.addModel(key, {
        executor: pool,
        signature: loaded.signature,
        batching: { ...batching, numBatchThreads: batching.numBatchThreads || holders },
        modelName: model.name,
      });
    } catch (err) {
      await pool.unload(key);
      throw err;
    }
    this.loaded.set(key, { model: model.name, version, device: model.device });
    return {
      key,
      platform,
      signature: loaded.signature,
      memoryBytes: Math.max(loaded.memoryBytes, estimated),
    };
  }

  async unload(model: ModelConfig, _version: number, loaded: LoadedVersion): Promise<void> {
    this.loaded.delete(loaded.key);
    await this.scheduler.removeModel(loaded.key);
    await this.pools.get(model.device)?.unload(loaded.key);
  }
}
