import { ServingError } from '../core/errors.js';
import type { BatchingOptions } from './batching-options.js';

/**
 * Checks a model's batching options before its queue is created; throws INVALID_ARGUMENT
 * naming the option. Config loading validates too; this guards programmatic callers.
 */
export function validateBatching(b: BatchingOptions): void {
  const positiveInt = (name: keyof BatchingOptions, v: number) => {
    if (!Number.isInteger(v) || v < 1) fail(`batching.${name} must be a positive integer`);
  };
  const nonNegative = (name: keyof BatchingOptions, v: number) => {
    if (!Number.isFinite(v) || v < 0) fail(`batching.${name} must be a non-negative number`);
  };
  positiveInt('maxBatchSize', b.maxBatchSize);
  positiveInt('maxEnqueuedBatches', b.maxEnqueuedBatches);
  positiveInt('numBatchThreads', b.numBatchThreads);
  nonNegative('batchTimeoutMicros', b.batchTimeoutMicros);
  nonNegative('defaultQueueTimeoutMicros', b.defaultQueueTimeoutMicros);
  if (!Number.isInteger(b.maxQueueSize) || b.maxQueueSize < 0) {
    fail('batching.maxQueueSize must be a non-negative integer');
  }
  if (b.enableLargeBatchSplitting) {
    positiveInt('maxExecutionBatchSize', b.maxExecutionBatchSize);
    if (b.maxExecutionBatchSize > b.maxBatchSize) {
      fail(`batching.maxExecutionBatchSize must be <= maxBatchSize (${b.maxBatchSize})`);
    }
  }
  let previous = 0;
  for (const size of b.allowedBatchSizes) {
    if (!Number.isInteger(size) || size <= previous) {
      fail('batching.allowedBatchSizes must be increasing positive integers');
    }
    previous = size;
  }
  // Padding must never exceed what one executed batch may hold.
  if (b.allowedBatchSizes.length > 0) {
    if (b.enableLargeBatchSplitting && previous !== b.maxExecutionBatchSize) {
      fail(
        `batching.allowedBatchSizes must end with maxExecutionBatchSize (${b.maxExecutionBatchSize}) when enableLargeBatchSplitting is on`,
      );
    }
    if (!b.enableLargeBatchSplitting && previous !== b.maxBatchSize) {
      fail(`batching.allowedBatchSizes must end with maxBatchSize (${b.maxBatchSize})`);
    }
  }
}

function fail(message: string): never {
  throw new ServingError('INVALID_ARGUMENT', message);
}
