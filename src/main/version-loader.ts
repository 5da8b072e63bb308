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
      this.scheduler.addModel(key, {
        executor: pool,
        signature: loaded.signature,
        batching: loaded.signature.batched ? model.batching : BATCHING_OFF,
        modelName: model.name,
      });
    } catch (err) {
      await pool.unload(key);
      throw err;
    }
    return { key, platform, signature: loaded.signature, memoryBytes: Math.max(loaded.memoryBytes, estimated) };
  }

  async unload(model: ModelConfig, _version: number, loaded: LoadedVersion): Promise<void> {
    await this.scheduler.removeModel(loaded.key);
    await this.pools.get(model.device)?.unload(loaded.key);
  }
}
