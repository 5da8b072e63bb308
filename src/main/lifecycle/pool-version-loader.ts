import { BATCHING_OFF, type BatchingOptions } from '../../batching/batching-options.js';
import type { BatchScheduler } from '../../batching/scheduler.js';
import { ServingError } from '../../core/errors.js';
import type { DevicePool } from '../../workers/device-pool.js';
import { detectPlatform, estimateModelBytes } from '../../workers/platform.js';
import type { ModelConfig } from '../config/model-config.js';
import { DEFAULT_WARMUP } from '../config/warmup-options.js';
import type { MemoryBudget, ReservationInfo, ReserveRequest } from '../tenancy/memory-budget.js';
import type { LoadedVersion, VersionLoader } from './loader.js';
import { type ServableInfo, ServableRegistry } from './servable-registry.js';
import type { WarmupRunner } from './warmup/warmup-runner.js';

let generation = 0;

/** Non-zero RSS deltas kept per onnx version for its charge (PoolVersionLoader.measuredSamples). */
const MEASURED_SAMPLES = 8;

/** What each loaded key is (metrics, memory reports). `model` is the manager's (internal) name. */
export type LoadedVersionInfo = ServableInfo;

/** Called after each load with the version's memory: estimated before loading, measured after. */
export type MemoryReport = (info: LoadedVersionInfo, reservation: ReservationInfo) => void;

/**
 * Loads a version directory onto its model's device pool and registers it with the batch
 * scheduler; unloads in the reverse order (the scheduler drains the version's queue first).
 * Keys are unique per load, so a reloaded version never collides with its predecessor.
 *
 * With a memory budget, the version's estimated bytes (its files times the workers that will
 * hold a session, or what an earlier load of the same onnx version measured when larger) are
 * reserved against its device and tenant before anything is loaded; a reservation that does
 * not fit rejects with RESOURCE_EXHAUSTED, which becomes that version's status, and nothing
 * already loaded is touched. The measured bytes (tfjs backend bytes, onnxruntime the worker's
 * RSS delta) replace the estimate after loading; the reservation is released after unloading
 * or a failed load.
 *
 * With a warmup runner, the version is warmed up once it is registered with the scheduler
 * and before `load` resolves (so before the version becomes AVAILABLE), through the same
 * queue and workers as client requests; a failed warmup unloads it and fails the load.
 *
 * Every version registered with the scheduler is recorded in `registry` (ServerCore's) under
 * its key until it is unloaded.
 */
export class PoolVersionLoader implements VersionLoader {
  /** What a loaded version's batching depends on besides the config, by key. */
  private readonly shapes = new Map<string, VersionShape>();
  /**
   * The last MEASURED_SAMPLES non-zero onnxruntime RSS deltas per `model/version`, across loads.
   * A delta reads 0 when the worker's allocator reuses pages an evicted model freed (most loads
   * under on-demand churn) and high when the load is the first of its kernels on the worker or
   * another thread grew meanwhile; the same file needs the same memory each time, so a version
   * is charged the median of its non-zero deltas (typicalMeasured).
   */
  private readonly measuredSamples = new Map<string, number[]>();

  constructor(
    private readonly pools: ReadonlyMap<string, DevicePool>,
    private readonly scheduler: BatchScheduler,
    private readonly budget?: MemoryBudget,
    private readonly report?: MemoryReport,
    private readonly warmup?: WarmupRunner,
    /** Reserves instead of `budget.reserve` (Residency: evicts idle on-demand models to make room). */
    private readonly reserve?: (request: ReserveRequest) => Promise<ReservationInfo>,
    /** After a measurement replaced an estimate: restores the budgets if it overshot (Residency.settle). */
    private readonly settle?: (device: string, tenant: string | undefined) => Promise<void>,
    /** Where loaded keys are recorded (ServerCore's registry); a private one when absent. */
    private readonly registry: ServableRegistry = new ServableRegistry(),
  ) {}

  async load(model: ModelConfig, version: number, versionDir: string): Promise<LoadedVersion> {
    const pool = this.pools.get(model.device);
    if (!pool) throw new ServingError('FAILED_PRECONDITION', `Device '${model.device}' has no worker pool`);
    const platform = model.platform ?? (await detectPlatform(versionDir));
    const workers = pool.stats().workers;
    const holders = model.instances === 0 ? workers : Math.min(model.instances, workers);
    const id = `${model.name}/${version}`;
    // A version loaded before reserves what its loads measured, so eviction makes room first.
    const fileBytes = (await estimateModelBytes(versionDir)) * holders;
    const estimated = Math.max(fileBytes, this.typicalMeasured(id));
    const key = `${model.name}/${version}#${++generation}`;
    const request = { key, device: model.device, tenant: model.tenant, bytes: estimated };
    if (this.reserve !== undefined) await this.reserve(request);
    else this.budget?.reserve(request);
    try {
      const label = `model '${model.name}' version ${version}`;
      const loaded = await pool.load({
        key,
        platform,
        path: versionDir,
        instances: model.instances,
        label,
        evictable: model.residency?.loadOnDemand === true,
      });
      try {
        const shape = { model: model.name, batched: loaded.signature.batched, holders };
        this.scheduler.addModel(key, {
          executor: pool,
          signature: loaded.signature,
          batching: effectiveBatching(model.batching, shape),
          modelName: model.name,
          version,
        });
        this.shapes.set(key, shape);
      } catch (err) {
        await pool.unload(key);
        throw err;
      }
      const info = { model: model.name, version, device: model.device, tenant: model.tenant };
      this.registry.add(key, info);
      if (this.warmup !== undefined) {
        try {
          await this.warmup.run({
            model: model.name,
            version,
            versionDir,
            key,
            platform,
            signature: loaded.signature,
            exampleSignatures: model.signatures,
            options: model.warmup ?? DEFAULT_WARMUP,
          });
        } catch (err) {
          this.registry.remove(key);
          this.shapes.delete(key);
          await this.scheduler.removeModel(key).catch(() => {});
          await pool.unload(key).catch(() => {});
          throw err;
        }
      }
      // Only a real measurement replaces the estimate; a runtime that cannot measure leaves it.
      const measured = loaded.memoryBytes;
      // onnxruntime's figure is the worker's RSS delta, which reads low when the allocator reuses
      // pages an unloaded model freed: charge the version's typical delta over its loads
      // (measuredSamples), with its files as the floor.
      let charge: number | undefined;
      if (measured !== undefined && platform === 'onnx') {
        if (measured > 0) {
          const samples = this.measuredSamples.get(id) ?? [];
          samples.push(measured);
          if (samples.length > MEASURED_SAMPLES) samples.shift();
          this.measuredSamples.set(id, samples);
        }
        charge = Math.max(fileBytes, this.typicalMeasured(id));
      }
      const reservation =
        measured === undefined ? this.budget?.get(key) : this.budget?.adjust(key, measured, charge);
      if (reservation !== undefined) this.report?.(info, reservation);
      if (reservation !== undefined && reservation.chargedBytes > reservation.estimatedBytes)
        void this.settle?.(model.device, model.tenant);
      return {
        key,
        platform,
        signature: loaded.signature,
        memoryBytes: measured ?? estimated,
        estimatedBytes: estimated,
        measuredBytes: measured,
      };
    } catch (err) {
      this.budget?.release(key);
      throw err;
    }
  }

  /**
   * Applies a model's new batching options to its loaded versions (a config reload): their
   * queues take the options at once (see BatchScheduler.setBatching). `model.name` is the
   * name the versions were loaded under.
   */
  rebatch(model: ModelConfig): void {
    for (const [key, shape] of this.shapes) {
      if (shape.model === model.name)
        this.scheduler.setBatching(key, effectiveBatching(model.batching, shape));
    }
  }

  /** Upper median of a version's non-zero onnxruntime RSS deltas; 0 before the first. */
  private typicalMeasured(id: string): number {
    const samples = [...(this.measuredSamples.get(id) ?? [])].sort((a, b) => a - b);
    return samples[samples.length >> 1] ?? 0;
  }

  async unload(model: ModelConfig, _version: number, loaded: LoadedVersion): Promise<void> {
    this.registry.remove(loaded.key);
    this.shapes.delete(loaded.key);
    try {
      await this.scheduler.removeModel(loaded.key);
      await this.pools.get(model.device)?.unload(loaded.key);
    } finally {
      this.budget?.release(loaded.key);
    }
  }
}

interface VersionShape {
  /** The manager's name of the version's model. */
  readonly model: string;
  /** The signature has a batch dimension. */
  readonly batched: boolean;
  /** Workers holding a session of the version. */
  readonly holders: number;
}

/** Batching off for unbatched signatures; 0 batch threads = one per worker holding the version. */
function effectiveBatching(batching: BatchingOptions, shape: VersionShape): BatchingOptions {
  const b = shape.batched ? batching : BATCHING_OFF;
  return { ...b, numBatchThreads: b.numBatchThreads || shape.holders };
}
