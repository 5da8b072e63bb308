/**
 * Per-model batching parameters (TF Serving's names, plus Triton's queue bound and
 * default queue timeout). Batching off is `maxBatchSize: 1`, on the same code path.
 */
export interface BatchingOptions {
  /** Largest batch in rows. A single request larger than this is INVALID_ARGUMENT unless splitting is on. */
  readonly maxBatchSize: number;
  /**
   * The longest the oldest request of an open batch may wait for company, in µs; 0 = no
   * timer: a batch starts as soon as a worker is free for it. Only eagerDispatch: false
   * waits this long; eager dispatch starts a batch whenever a worker is free for it.
   */
  readonly batchTimeoutMicros: number;
  /**
   * Work-conserving dispatch: no request waits for company while a worker is free for its
   * model. A request that arrives while a worker is free and no batch is forming runs at once
   * (after the current event-loop turn, so requests that arrived together still share its
   * batch); requests that arrive while every worker is busy form a batch (up to the batch
   * size) that starts as soon as a worker frees. batchTimeoutMicros then never delays a
   * batch. false is TF Serving's behaviour: every open batch waits until it is full or its
   * oldest request has waited batchTimeoutMicros.
   */
  readonly eagerDispatch: boolean;
  /** Queue bound in batches (closed + open); beyond it → UNAVAILABLE. */
  readonly maxEnqueuedBatches: number;
  /** Batches of this model that may execute at once (config's 0 = one per worker holding the model, resolved at load). */
  readonly numBatchThreads: number;
  /**
   * Increasing sizes, last = maxBatchSize (maxExecutionBatchSize when splitting is on);
   * batches are padded up to the next size. Empty = no padding.
   */
  readonly allowedBatchSizes: readonly number[];
  /** Pad non-batch dims up to the batch's largest instead of refusing to mix shapes. */
  readonly padVariableLengthInputs: boolean;
  /** Split a request larger than maxExecutionBatchSize over several batches. */
  readonly enableLargeBatchSplitting: boolean;
  /** Largest executed batch when splitting is on (defaults to maxBatchSize). */
  readonly maxExecutionBatchSize: number;
  /** Triton's bound on queued requests (0 = unbounded, only maxEnqueuedBatches applies). */
  readonly maxQueueSize: number;
  /** Default time a request may wait in the queue, in µs (0 = no limit beyond its own deadline). */
  readonly defaultQueueTimeoutMicros: number;
}

export const DEFAULT_BATCHING: BatchingOptions = Object.freeze({
  maxBatchSize: 32,
  batchTimeoutMicros: 1000,
  eagerDispatch: true,
  maxEnqueuedBatches: 100,
  numBatchThreads: 1,
  allowedBatchSizes: [],
  padVariableLengthInputs: false,
  enableLargeBatchSplitting: false,
  maxExecutionBatchSize: 32,
  maxQueueSize: 0,
  defaultQueueTimeoutMicros: 0,
});

export const BATCHING_OFF: BatchingOptions = Object.freeze({
  ...DEFAULT_BATCHING,
  maxBatchSize: 1,
  batchTimeoutMicros: 0,
  maxExecutionBatchSize: 1,
});
