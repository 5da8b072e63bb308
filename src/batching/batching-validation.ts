import { ServingError } from '../core/errors.js';
import type { BatchingOptions } from './batching-options.js';

/** One broken batching rule: the option it is about and what is wrong, without the option's name. */
export interface BatchingProblem {
  readonly option: keyof BatchingOptions;
  /** E.g. `must end with max_batch_size (8)`; other options are named through `name`. */
  readonly message: string;
}

/**
 * The batching rules across options, in one place for every caller: the config loader
 * reports them under the YAML names (`max_execution_batch_size`), the scheduler under the
 * option names (`maxExecutionBatchSize`); `name` spells an option the caller's way. Ranges of
 * single options (positive integers, ...) are not checked here: the config schema checks them
 * for YAML, validateBatching for programmatic callers.
 */
export function batchingProblems(
  b: BatchingOptions,
  name: (option: keyof BatchingOptions) => string,
): BatchingProblem[] {
  const problems: BatchingProblem[] = [];
  const allowed = b.allowedBatchSizes;
  for (let i = 1; i < allowed.length; i++) {
    if (allowed[i] <= allowed[i - 1]) {
      problems.push({
        option: 'allowedBatchSizes',
        message: `must be strictly increasing (entry ${i} is ${allowed[i]})`,
      });
      break;
    }
  }
  if (b.maxExecutionBatchSize > b.maxBatchSize) {
    problems.push({
      option: 'maxExecutionBatchSize',
      message: `must be <= ${name('maxBatchSize')} (${b.maxBatchSize})`,
    });
  }
  // Padding never exceeds what one executed batch may hold: with splitting on (TF Serving),
  // executed batches, hence padded sizes, stop at maxExecutionBatchSize.
  const last = allowed[allowed.length - 1];
  if (last !== undefined && b.enableLargeBatchSplitting && last !== b.maxExecutionBatchSize) {
    problems.push({
      option: 'allowedBatchSizes',
      message:
        `must end with ${name('maxExecutionBatchSize')} (${b.maxExecutionBatchSize}) ` +
        `when ${name('enableLargeBatchSplitting')} is on`,
    });
  } else if (last !== undefined && !b.enableLargeBatchSplitting && last !== b.maxBatchSize) {
    problems.push({
      option: 'allowedBatchSizes',
      message: `must end with ${name('maxBatchSize')} (${b.maxBatchSize})`,
    });
  }
  return problems;
}

/**
 * Checks a model's batching options before its queue is created; throws INVALID_ARGUMENT
 * naming the option (`batching.<option> ...`). The config loader has checked the same rules
 * (batchingProblems) and the schema the ranges; this guards programmatic callers.
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
  positiveInt('maxExecutionBatchSize', b.maxExecutionBatchSize);
  nonNegative('batchTimeoutMicros', b.batchTimeoutMicros);
  nonNegative('defaultQueueTimeoutMicros', b.defaultQueueTimeoutMicros);
  if (!Number.isInteger(b.maxQueueSize) || b.maxQueueSize < 0) {
    fail('batching.maxQueueSize must be a non-negative integer');
  }
  if (b.allowedBatchSizes.some((size) => !Number.isInteger(size) || size < 1)) {
    fail('batching.allowedBatchSizes must hold positive integers');
  }
  const first = batchingProblems(b, (option) => option)[0];
  if (first !== undefined) fail(`batching.${first.option} ${first.message}`);
}

function fail(message: string): never {
  throw new ServingError('INVALID_ARGUMENT', message);
}
