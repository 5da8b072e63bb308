import type { Platform } from '../core/platform.js';
import type { Signature } from '../core/signature.js';
import type { TensorMap } from '../core/tensor.js';

export interface LoadOptions {
  /** Device name, `cpu` or `cuda:N`. */
  readonly device: string;
  /** Threads one inference may use inside its worker (ORT intra-op threads). */
  readonly intraOpThreads: number;
  /** Threads one inference may run independent graph nodes on (ORT inter-op threads; absent = 1). */
  readonly interOpThreads?: number;
  /**
   * The model may be unloaded to make room for others (ModelPlacement.evictable): prefer
   * returning memory on dispose over allocator caches kept per session. Absent = false.
   */
  readonly evictable?: boolean;
}

/**
 * A model version loaded into one worker thread. `run` is called with one closed batch at
 * a time; it may keep references to the input buffers only until its promise settles.
 * Outputs must be standalone (transferable) buffers. Errors thrown are sent to the main
 * thread; throw ServingError-shaped errors for client mistakes.
 */
export interface LoadedModel {
  readonly signature: Signature;
  /**
   * Memory the loaded model holds, in bytes, as measured by the runtime after loading;
   * undefined when the runtime cannot measure it (never an estimate: the loader estimates).
   */
  readonly memoryBytes: number | undefined;
  run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap>;
  dispose(): Promise<void>;
}

/** A model format. Knows nothing of queues or batching. */
export interface Runtime {
  readonly platform: Platform;
  load(dir: string, options: LoadOptions): Promise<LoadedModel>;
  /**
   * Optional: sets up the runtime's per-process state before the first load, so that a load's
   * RSS delta (the worker's measurement when the model reports no memoryBytes) is the model's.
   */
  prime?(): Promise<void>;
}
