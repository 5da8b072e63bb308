import type { CancelSignal } from '../core/cancel-signal.js';
import type { ServingError } from '../core/errors.js';
import type { TensorMap } from '../core/tensor.js';
import type { RequestResult } from './queued-request.js';

/**
 * One queued unit of a model queue: a request, or one chunk of a split request. Internal to
 * the batching package: the model queue creates, batches and settles tasks.
 */
export interface QueuedTask {
  readonly rows: number;
  readonly tenant: string | undefined;
  /** Clock time it was queued, ms. */
  readonly enqueuedAt: number;
  /** Input names and non-batch dims ('' for models without a batch dim). */
  readonly shapeKey: string;
  readonly inputs: TensorMap;
  readonly outputNames: readonly string[];
  /** Absolute deadline on the clock's scale; Infinity when none. */
  readonly deadline: number;
  readonly signal: CancelSignal | undefined;
  readonly resolve: (result: RequestResult) => void;
  readonly reject: (err: ServingError) => void;
  readonly onStart: (() => void) | undefined;
  onAbort?: () => void;
}
