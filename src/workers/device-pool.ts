import type { BatchExecutor, BatchResult } from '../batching/executor.js';
import { ServingError } from '../core/errors.js';
import type { TensorMap } from '../core/tensor.js';
import {
  type DevicePoolOptions,
  type ResolvedPoolOptions,
  resolvePoolOptions,
} from './device-pool-options.js';
import { type LoadedPlacement, type ModelPlacement, validatePlacement } from './model-placement.js';
import { type DevicePoolStats, poolStats } from './pool-stats.js';
import { prepareTransfer, receiveTransfer } from './tensor-transfer.js';
import type { LoadReply, LoadTask, ModelDescriptor, ReplyOf, RunTask } from './worker-protocol.js';
import { WorkerSlot } from './worker-slot.js';

export type { DevicePoolOptions, PoolLogger } from './device-pool-options.js';
export type { LoadedPlacement, ModelPlacement } from './model-placement.js';
export type { DevicePoolStats, WorkerStats } from './pool-stats.js';

interface Placement {
  readonly model: ModelDescriptor;
  state: 'loading' | 'ready';
  unloadRequested: boolean;
  /** Measured bytes of one instance (the loads' mean); undefined while loading or unmeasured. */
  bytesPerInstance?: number;
  /** Resolves when the load, including any roll-back, has finished. */
  readonly settled: Promise<void>;
}

const WORKER_ENTRY = new URL('./worker.js', import.meta.url).href;

/**
 * One device's worker threads (piscina) and the model sessions placed on them. Created by
 * the server at start-up, one per configured device; the loader calls `load`/`unload`,
 * the device dispatcher calls `run` when `freeSlots() > 0`.
 *
 * Each worker is a one-thread piscina pool (WorkerSlot) so a batch can be aimed at a
 * thread that holds its session. A thread that dies (exit, uncaught error) fails only the
 * task it was running, with UNAVAILABLE; piscina starts a replacement and the pool reloads
 * every model the dead thread held on it. Run tasks carry the model's descriptor, so a
 * worker lacking the session loads it first. Every method rejects only with ServingError.
 */
export class DevicePool implements BatchExecutor {
  readonly device: string;
  readonly #options: ResolvedPoolOptions;
  readonly #slots: WorkerSlot[];
  readonly #placements = new Map<string, Placement>();
  readonly #listeners = new Set<() => void>();
  readonly #startedAt: number;
  #state: 'open' | 'closing' | 'destroyed' = 'open';
  /** Load tasks run one at a time when measuring memory, so each RSS delta is one load's. */
  #loadChain: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  /** Throws TypeError naming the option when options are invalid. */
  constructor(options: DevicePoolOptions) {
    this.#options = resolvePoolOptions(options);
    this.device = this.#options.device;
    this.#startedAt = this.#options.now();
    const config = {
      device: this.device,
      intraOpThreads: this.#options.intraOpThreads,
      interOpThreads: this.#options.interOpThreads,
      runtimeModule: this.#options.runtimeModule,
      logLevel: this.#options.logLevel,
      measureMemory: this.#options.measureMemory,
    };
    this.#slots = Array.from(
      { length: this.#options.workers },
      (_, index) =>
        new WorkerSlot({
          index,
          filename: WORKER_ENTRY,
          config,
          now: this.#options.now,
          onThreadLost: (slot) => this.#recover(slot),
          onError: (slot, err) =>
            this.#options.logger?.error(
              { device: this.device, worker: slot.index, err },
              'worker thread error',
            ),
        }),
    );
  }

  /**
   * Loads a model version on `instances` workers. Rejects with ServingError (and leaves no
   * session behind) when any instance fails; ALREADY_EXISTS when the key is placed already.
   */
  async load(placement: ModelPlacement): Promise<LoadedPlacement> {
    this.#assertOpen(`load model '${placement?.key}'`);
    const model = validatePlacement(placement);
    if (this.#placements.has(model.key)) {
      throw new ServingError(
        'ALREADY_EXISTS',
        `Model '${model.key}' is already loaded on device ${this.device}`,
      );
    }
    let settle = () => {};
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const entry: Placement = { model, state: 'loading', unloadRequested: false, settled };
    this.#placements.set(model.key, entry);
    try {
      return await this.#loadPlacement(entry, this.#leastLoaded(placement.instances));
    } finally {
      settle();
    }
  }

  async #loadPlacement(entry: Placement, targets: WorkerSlot[]): Promise<LoadedPlacement> {
    const { model } = entry;
    const results = await Promise.allSettled(targets.map((slot) => this.#loadOn(slot, model)));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure !== undefined || entry.unloadRequested || this.#state !== 'open') {
      this.#placements.delete(model.key);
      await Promise.all(
        targets.filter((s) => s.models.has(model.key)).map((s) => this.#unloadFrom(s, model.key)),
      );
      if (failure !== undefined) throw ServingError.from(failure.reason);
      throw new ServingError(
        'ABORTED',
        `Model '${model.key}' was unloaded from device ${this.device} while loading`,
      );
    }
    entry.state = 'ready';
    const replies = results.map((r) => (r as PromiseFulfilledResult<LoadReply>).value);
    const measured = replies.filter((r) => r.memoryBytes !== undefined);
    if (measured.length > 0)
      entry.bytesPerInstance = measured.reduce((sum, r) => sum + (r.memoryBytes ?? 0), 0) / measured.length;
    return {
      signature: replies[0].signature,
      memoryBytes: replies.some((r) => r.memoryBytes === undefined)
        ? undefined
        : replies.reduce((sum, r) => sum + (r.memoryBytes ?? 0), 0),
    };
  }

  /** Disposes every session of the key. Resolves (doing nothing) for an unknown key. */
  async unload(key: string): Promise<void> {
    const entry = this.#placements.get(key);
    if (entry === undefined) return;
    if (entry.state === 'loading') {
      entry.unloadRequested = true;
      await entry.settled;
      return;
    }
    this.#placements.delete(key);
    await Promise.all(this.#slots.filter((s) => s.models.has(key)).map((s) => this.#unloadFrom(s, key)));
  }

  /**
   * Runs one closed batch on the least busy worker holding the model. Input buffers are
   * transferred (numeric ones detached here; strings packed into one moved buffer). Rejects with NOT_FOUND for a key not loaded,
   * UNAVAILABLE when the worker dies or the pool is stopping, and with the runtime's
   * error (the worker survives) when inference fails.
   */
  async run(key: string, inputs: TensorMap, outputNames: readonly string[]): Promise<BatchResult> {
    this.#assertOpen(`run model '${key}'`);
    const entry = this.#placements.get(key);
    if (entry === undefined || entry.state !== 'ready') {
      throw new ServingError('NOT_FOUND', `Model '${key}' is not loaded on device ${this.device}`);
    }
    const slot = this.#pickSlot(key);
    const { tensors, transferList } = prepareTransfer(inputs);
    const task: RunTask = { kind: 'run', model: entry.model, inputs: tensors, outputNames };
    slot.running++;
    let reply: ReplyOf<RunTask>;
    try {
      reply = await slot.call(task, transferList);
    } catch (err) {
      throw this.#threadError(slot, entry.model.label, 'running', err);
    } finally {
      slot.running--;
      this.#released(slot);
    }
    if (!reply.ok) throw new ServingError(reply.error.code, reply.error.message);
    // The worker loaded the session itself (safety net after a replacement): record it.
    if (reply.loaded && this.#placements.get(key) === entry) slot.models.add(key);
    return { outputs: receiveTransfer(reply.outputs), timings: reply.timings };
  }

  /** Workers not running anything now; 0 once closing. */
  freeSlots(): number {
    if (this.#state !== 'open') return 0;
    let n = 0;
    for (const slot of this.#slots) if (slot.free) n++;
    return n;
  }

  /**
   * Free workers a batch of `key` would run on now: those holding its session. When no
   * worker holds it (every reload failed, or the key is not placed) a run may go to any
   * worker (it loads lazily, or fails fast), so then every free worker counts.
   */
  freeSlotsFor(key: string): number {
    if (this.#state !== 'open') return 0;
    let holders = 0;
    let free = 0;
    for (const slot of this.#slots) {
      if (!slot.models.has(key)) continue;
      holders++;
      if (slot.free) free++;
    }
    return holders === 0 ? this.freeSlots() : free;
  }

  /** Registers a callback run whenever a worker becomes free. Returns an unsubscribe function. */
  onSlotFree(callback: () => void): () => void {
    this.#listeners.add(callback);
    return () => this.#listeners.delete(callback);
  }

  /** Per-worker load and utilization (since the pool started), for metrics. */
  stats(): DevicePoolStats {
    return poolStats(this.device, this.#slots, this.freeSlots(), this.#options.now() - this.#startedAt);
  }

  /** Stops accepting work, waits for batches in flight, then ends the threads. */
  close(): Promise<void> {
    if (this.#stopping === undefined) {
      this.#state = 'closing';
      this.#stopping = Promise.all(this.#slots.map((s) => s.close())).then(() => undefined);
    }
    return this.#stopping;
  }

  /** Ends the threads now; batches in flight reject with UNAVAILABLE. */
  destroy(): Promise<void> {
    this.#state = 'destroyed';
    this.#stopping = Promise.all(this.#slots.map((s) => s.destroy())).then(() => undefined);
    return this.#stopping;
  }

  #loadOn(slot: WorkerSlot, model: ModelDescriptor): Promise<LoadReply> {
    if (!this.#options.measureMemory) return this.#loadOnNow(slot, model);
    const run = this.#loadChain.then(() => this.#loadOnNow(slot, model));
    this.#loadChain = run.catch(() => {});
    return run;
  }

  async #loadOnNow(slot: WorkerSlot, model: ModelDescriptor): Promise<LoadReply> {
    let reply: ReplyOf<LoadTask>;
    try {
      reply = await slot.call({ kind: 'load', model });
    } catch (err) {
      throw this.#threadError(slot, model.label, 'loading', err);
    } finally {
      this.#released(slot);
    }
    if (!reply.ok) {
      throw new ServingError(reply.error.code, reply.error.message, { permanent: reply.error.permanent });
    }
    // Not when the key was unloaded meanwhile: the unload task queued behind disposes it.
    if (this.#placements.get(model.key)?.model === model) slot.models.add(model.key);
    return reply;
  }

  async #unloadFrom(slot: WorkerSlot, key: string): Promise<void> {
    slot.models.delete(key);
    try {
      const reply = await slot.call({ kind: 'unload', key });
      if (!reply.ok)
        this.#options.logger?.warn({ device: this.device, key, error: reply.error }, 'unload failed');
    } catch {
      // The thread died: its sessions died with it.
    } finally {
      this.#released(slot);
    }
  }

  /** A slot's thread died and piscina is replacing it: restore its sessions there. */
  #recover(slot: WorkerSlot): void {
    if (this.#state === 'destroyed') return;
    slot.restarts++;
    const keys = [...slot.models];
    this.#options.logger?.warn(
      { device: this.device, worker: slot.index, models: keys },
      'worker thread died; reloading its models on the replacement',
    );
    for (const key of keys) {
      const entry = this.#placements.get(key);
      if (entry === undefined) {
        slot.models.delete(key);
        continue;
      }
      // Not serialized: the placement's memory was measured by its first load.
      this.#loadOnNow(slot, entry.model).catch((err: unknown) => {
        // Runs for this key fall back to other holders, or load it lazily (run descriptor).
        slot.models.delete(key);
        this.#options.logger?.error({ device: this.device, worker: slot.index, key, err }, 'reload failed');
      });
    }
    this.#released(slot);
  }

  /** Least busy holder of the key; any worker when none holds it (the run loads it). */
  #pickSlot(key: string): WorkerSlot {
    let holders = this.#slots.filter((s) => s.models.has(key));
    if (holders.length === 0) holders = this.#slots;
    const load = (s: WorkerSlot) => (s.free ? 0 : 1 + s.running + s.queued);
    return holders.reduce((best, s) => (load(s) < load(best) ? s : best));
  }

  /**
   * Placement: the workers holding the fewest measured bytes (then the fewest models), so that
   * memory stays balanced across a device's workers when models load on one instance each.
   */
  #leastLoaded(instances: number): WorkerSlot[] {
    const n = instances === 0 || instances >= this.#slots.length ? this.#slots.length : instances;
    const bytes = (slot: WorkerSlot) => {
      let sum = 0;
      for (const key of slot.models) sum += this.#placements.get(key)?.bytesPerInstance ?? 0;
      return sum;
    };
    const weight = new Map(this.#slots.map((s) => [s, bytes(s)] as const));
    return [...this.#slots]
      .sort((a, b) => weight.get(a)! - weight.get(b)! || a.models.size - b.models.size || a.index - b.index)
      .slice(0, n);
  }

  /** Measured bytes held by each worker (placement balance), by worker index. */
  workerBytes(): number[] {
    return this.#slots.map((slot) => {
      let sum = 0;
      for (const key of slot.models) sum += this.#placements.get(key)?.bytesPerInstance ?? 0;
      return sum;
    });
  }

  #released(slot: WorkerSlot): void {
    if (!slot.free || this.#state !== 'open') return;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        this.#options.logger?.error({ device: this.device, err }, 'slot-free listener threw');
      }
    }
  }

  /** `label` names the model version as clients know it (ModelDescriptor.label). */
  #threadError(slot: WorkerSlot, label: string, verb: string, err: unknown): ServingError {
    const where = `worker ${slot.index} of device ${this.device}`;
    const message =
      this.#state === 'destroyed'
        ? `Device ${this.device} was shut down while ${verb} ${label}`
        : `The ${where} crashed while ${verb} ${label}; the worker is being replaced`;
    return new ServingError('UNAVAILABLE', message, { cause: err, retryAfterSeconds: 1 });
  }

  #assertOpen(what: string): void {
    if (this.#state !== 'open') {
      throw new ServingError('UNAVAILABLE', `Device ${this.device} is shutting down; cannot ${what}`);
    }
  }
}
