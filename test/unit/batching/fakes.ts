import type { BatchingOptions } from '../../../src/batching/batching-options.js';
import { DEFAULT_BATCHING } from '../../../src/batching/batching-options.js';
import type { BatchExecutor, BatchResult } from '../../../src/batching/executor.js';
import type { Clock, TimerHandle } from '../../../src/core/clock.js';
import type { Signature } from '../../../src/core/signature.js';
import type { Tensor, TensorMap } from '../../../src/core/tensor.js';

/** A clock that moves only when told; timers fire in due order during `advance`. */
export class ManualClock implements Clock {
  #now = 1_700_000_000_000;
  #seq = 0;
  #timers = new Map<number, { due: number; cb: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimer(cb: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), cb });
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  get timerCount(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { due: number; cb: () => void }] | undefined;
      for (const entry of this.#timers)
        if (entry[1].due <= end && (!next || entry[1].due < next[1].due)) next = entry;
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].due);
      next[1].cb();
    }
    this.#now = end;
  }
}

export interface RecordedBatch {
  readonly modelKey: string;
  readonly inputs: TensorMap;
  readonly outputNames: readonly string[];
  settled: boolean;
}

/**
 * A device with a controllable number of slots that records every batch and settles them
 * on command. Outputs default to `<input>_out` echoing each input (same buffer).
 */
export class FakeExecutor implements BatchExecutor {
  readonly device: string;
  readonly batches: RecordedBatch[] = [];
  #slots: number;
  #running = 0;
  #listeners: (() => void)[] = [];
  #settle = new Map<RecordedBatch, { resolve: (r: BatchResult) => void; reject: (e: unknown) => void }>();

  constructor(slots = 1, device = 'fake:0') {
    this.#slots = slots;
    this.device = device;
  }

  run(modelKey: string, inputs: TensorMap, outputNames: readonly string[]): Promise<BatchResult> {
    if (this.freeSlots() <= 0) throw new Error('run() called with no free slot');
    this.#running++;
    const batch: RecordedBatch = { modelKey, inputs, outputNames, settled: false };
    this.batches.push(batch);
    return new Promise((resolve, reject) => this.#settle.set(batch, { resolve, reject }));
  }

  freeSlots(): number {
    return this.#slots - this.#running;
  }

  onSlotFree(callback: () => void): void {
    this.#listeners.push(callback);
  }

  setSlots(n: number): void {
    this.#slots = n;
    for (const cb of this.#listeners) cb();
  }

  /** Batches handed over but not settled. */
  get open(): RecordedBatch[] {
    return this.batches.filter((b) => !b.settled);
  }

  complete(batch: RecordedBatch, outputs: TensorMap = echo(batch.inputs)): void {
    this.#finish(batch).resolve({
      outputs,
      timings: { computeInputMicros: 1, computeInferMicros: 2, computeOutputMicros: 3 },
    });
  }

  fail(batch: RecordedBatch, err: unknown): void {
    this.#finish(batch).reject(err);
  }

  /** Completes every open batch, including those started meanwhile, until none is left. */
  async drain(): Promise<void> {
    await flush();
    for (let open = this.open; open.length > 0; open = this.open) {
      for (const b of open) this.complete(b);
      await flush();
    }
  }

  #finish(batch: RecordedBatch) {
    const settle = this.#settle.get(batch);
    if (settle === undefined || batch.settled) throw new Error('batch already settled');
    batch.settled = true;
    this.#running--;
    for (const cb of this.#listeners) cb();
    return settle;
  }
}

export function echo(inputs: TensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(inputs)) out[`${name}_out`] = t;
  return out;
}

/** Lets microtasks and promise callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function f32(shape: number[], values: number[]): Tensor {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

/** A request of `rows` rows of one float32 input `x` of shape [rows, width], filled with `value`. */
export function rowsOf(rows: number, value = 1, width = 2): TensorMap {
  return { x: f32([rows, width], new Array(rows * width).fill(value)) };
}

export const SIGNATURE: Signature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1, -1] }],
  outputs: [{ name: 'x_out', dtype: 'float32', shape: [-1, -1] }],
  batched: true,
  methodName: 'tensorflow/serving/predict',
};

export function batching(overrides: Partial<BatchingOptions> = {}): BatchingOptions {
  return {
    ...DEFAULT_BATCHING,
    maxBatchSize: 8,
    maxExecutionBatchSize: 8,
    batchTimeoutMicros: 1000,
    ...overrides,
  };
}

/** Settles to 'pending' while the promise has not settled. */
export async function state<T>(p: Promise<T>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let s: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  p.then(
    () => {
      s = 'fulfilled';
    },
    () => {
      s = 'rejected';
    },
  );
  await flush();
  return s;
}

/** Rows of the batch's input `x` (dim 0). */
export function batchRows(b: RecordedBatch): number {
  return b.inputs.x.shape[0];
}

/** A batch a PlacedFakeExecutor runs, with the worker it went to. */
export interface PlacedBatch extends RecordedBatch {
  readonly worker: number;
}

/**
 * A device of numbered workers on which each model's sessions live on some workers only (as
 * DevicePool places them). `run` takes a free worker holding the model and throws when there
 * is none (the batch would have queued inside the pool); `freeSlotsFor` counts those workers.
 */
export class PlacedFakeExecutor implements BatchExecutor {
  readonly device = 'fake:placed';
  readonly batches: PlacedBatch[] = [];
  readonly #busy: boolean[];
  readonly #holders: Map<string, readonly number[]>;
  readonly #listeners: (() => void)[] = [];
  readonly #settle = new Map<PlacedBatch, (r: BatchResult) => void>();

  /** `holders` maps a model key to the workers holding its session. */
  constructor(workers: number, holders: Record<string, readonly number[]>) {
    this.#busy = new Array<boolean>(workers).fill(false);
    this.#holders = new Map(Object.entries(holders));
  }

  run(modelKey: string, inputs: TensorMap, outputNames: readonly string[]): Promise<BatchResult> {
    const worker = (this.#holders.get(modelKey) ?? []).find((w) => !this.#busy[w]);
    if (worker === undefined) throw new Error(`run(${modelKey}) with no free worker holding the model`);
    this.#busy[worker] = true;
    const batch: PlacedBatch = { modelKey, inputs, outputNames, settled: false, worker };
    this.batches.push(batch);
    return new Promise((resolve) => this.#settle.set(batch, resolve));
  }

  freeSlots(): number {
    return this.#busy.filter((b) => !b).length;
  }

  freeSlotsFor(modelKey: string): number {
    return (this.#holders.get(modelKey) ?? []).filter((w) => !this.#busy[w]).length;
  }

  onSlotFree(callback: () => void): void {
    this.#listeners.push(callback);
  }

  complete(batch: PlacedBatch): void {
    const resolve = this.#settle.get(batch);
    if (resolve === undefined || batch.settled) throw new Error('batch already settled');
    batch.settled = true;
    this.#busy[batch.worker] = false;
    resolve({
      outputs: echo(batch.inputs),
      timings: { computeInputMicros: 1, computeInferMicros: 2, computeOutputMicros: 3 },
    });
    for (const cb of this.#listeners) cb();
  }
}
