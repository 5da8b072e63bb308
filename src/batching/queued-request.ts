import type { CancelSignal } from '../core/cancel-signal.js';
import type { TensorMap } from '../core/tensor.js';
import type { BatchTimings } from './executor.js';

/**
 * One inference request handed to the batch scheduler. The caller has validated `inputs`
 * against the model's signature (dtypes, ranks, non-batch dims); all inputs share dim 0,
 * the request's row count. The scheduler owns `inputs` until the promise settles.
 */
export interface QueuedRequest {
  readonly inputs: TensorMap;
  /** Outputs wanted; empty means all of the model's outputs. */
  readonly outputNames: readonly string[];
  /**
   * Absolute deadline in ms on the scheduler clock's scale (`BatchScheduler.clock.now()`).
   * Callers holding an epoch (Date.now()) deadline convert it when they enqueue.
   */
  readonly deadline?: number;
  /**
   * Aborting it while the request is queued removes it, rejecting with the abort reason when
   * that is a ServingError, else CANCELLED; once running it completes.
   */
  readonly signal?: CancelSignal;
  /** Sub-queue for fairness; undefined is the default tenant. */
  readonly tenant?: string;
  /** Called when the request's batch starts running (once per chunk of a split request). Must not throw. */
  readonly onStart?: () => void;
}

/** What a request gets back: its rows of the batch's outputs, and what metrics need. */
export interface RequestResult {
  /** Views into the batch's output buffers (no copy), padding rows dropped. */
  readonly outputs: TensorMap;
  /** Enqueue → batch start, µs. */
  readonly queueMicros: number;
  /** Rows of real requests in the batch it ran in. */
  readonly batchSize: number;
  /** Rows executed, padding included. */
  readonly paddedSize: number;
  readonly timings: BatchTimings;
}
