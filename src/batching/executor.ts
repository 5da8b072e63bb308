import type { TensorMap } from '../core/tensor.js';

/** Timings a worker reports with each batch, in microseconds. */
export interface BatchTimings {
  /** Converting transferred buffers into runtime tensors. */
  readonly computeInputMicros: number;
  /** The runtime's inference call. */
  readonly computeInferMicros: number;
  /** Converting runtime outputs into transferable buffers. */
  readonly computeOutputMicros: number;
}

export interface BatchResult {
  readonly outputs: TensorMap;
  readonly timings: BatchTimings;
}

/**
 * Where closed batches run: implemented by a device pool. The dispatcher owns the
 * decision of which batch runs next; the executor only runs what it is given.
 *
 * `run` transfers the input buffers (callers must not touch them afterwards) and
 * rejects with a ServingError when the runtime fails or the worker dies.
 * `freeSlots` is how many batches could start now without waiting inside the pool;
 * `freeSlotsFor(key)`, when implemented, is how many of those could run the model `key`
 * now (free workers holding its session): a model whose batch would only queue inside the
 * pool behind another is not ready, so its open batch keeps growing. Without it, any free
 * slot is assumed to fit every model.
 * `onSlotFree` registers a callback invoked whenever a running batch settles (or a
 * worker is replaced), so the dispatcher can start the next one.
 */
export interface BatchExecutor {
  readonly device: string;
  run(modelKey: string, inputs: TensorMap, outputNames: readonly string[]): Promise<BatchResult>;
  freeSlots(): number;
  freeSlotsFor?(modelKey: string): number;
  onSlotFree(callback: () => void): void;
}
