import type { ServingError } from '../core/errors.js';

/**
 * Batch fault isolation: when a batch of several requests fails in the runtime, one bad
 * request (an out-of-range index, a value the model rejects) must not fail the others that
 * shared its batch. The model queue re-runs the batch's requests in two halves, ahead of its
 * queued work, and halves again whatever fails, down to single requests: only a request
 * that fails on its own gets the error. A batch of n requests with one bad one costs about
 * 2·log2(n) extra runs. Neither TF Serving nor Triton does this.
 */

/**
 * Codes that say nothing about the batch's inputs, so re-running would not help or would
 * do harm: the worker died or the device is going away (UNAVAILABLE; re-running a request
 * that crashes workers would crash more of them), the model was unloaded (NOT_FOUND),
 * cancellation and deadlines, and aborts.
 */
const NOT_ISOLATED: ReadonlySet<string> = new Set([
  'UNAVAILABLE',
  'NOT_FOUND',
  'CANCELLED',
  'DEADLINE_EXCEEDED',
  'ABORTED',
]);

/** True when a failed batch of `requests` requests is worth re-running in smaller groups. */
export function shouldIsolate(err: ServingError, requests: number): boolean {
  return requests > 1 && !NOT_ISOLATED.has(err.code);
}

/** The two halves a failed group is re-run as, in order (the first half the larger). */
export function bisect<T>(group: readonly T[]): [T[], T[]] {
  const mid = Math.ceil(group.length / 2);
  return [group.slice(0, mid), group.slice(mid)];
}

/** What the scheduler reports of isolation, for metrics. */
export interface BatchFault {
  readonly key: string;
  readonly modelName: string;
  /**
   * `bisected`: a failed batch of several requests is re-run in two halves; `isolated`: a
   * request failed alone after its batch had failed, and only it got the error.
   */
  readonly event: 'bisected' | 'isolated';
  readonly requests: number;
  readonly code: string;
}
