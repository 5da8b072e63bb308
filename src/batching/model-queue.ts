import type { Clock, TimerHandle } from '../core/clock.js';
import { ServingError } from '../core/errors.js';
import type { Signature } from '../core/signature.js';
import type { TensorMap } from '../core/tensor.js';
import {
  assembleBatch,
  copyTensors,
  paddedBatchSize,
  rowsOf,
  shapeKeyOf,
  splitOutputs,
} from './batch-assembly.js';
import type { BatchingOptions } from './batching-options.js';
import { validateBatching } from './batching-validation.js';
import type { DispatchQueue } from './device-dispatcher.js';
import type { BatchExecutor, BatchTimings } from './executor.js';
import { FairQueue } from './fair-queue.js';
import { runInChunks } from './large-request.js';
import type { QueuedRequest, RequestResult } from './queued-request.js';
import { schedulerErrors } from './scheduler-errors.js';

export interface ModelQueueOptions {
  readonly key: string;
  readonly modelName: string;
  readonly order: number;
  readonly executor: BatchExecutor;
  readonly signature: Signature;
  readonly batching: BatchingOptions;
  readonly clock: Clock;
  /** Tenant weights, shared by all queues of a scheduler. */
  readonly weights: Map<string | undefined, number>;
  /** Called when a batch may have become ready (the device dispatcher's `schedule`). */
  readonly notify: () => void;
  /**
   * Called when one of its batches has settled, after the running count dropped (the device
   * dispatcher's `batchSettled`); defaults to `notify`.
   */
  readonly settled?: () => void;
  /** Called once per executed batch (success only), for metrics. Must not throw. */
  readonly onBatch?: (batch: ExecutedBatch) => void;
}

/** One batch that ran: what per-batch metrics record. */
export interface ExecutedBatch {
  readonly key: string;
  readonly modelName: string;
  /** Rows of real requests. */
  readonly rows: number;
  /** Rows executed, padding included. */
  readonly paddedRows: number;
  readonly timings: BatchTimings;
}

/** One queued unit: a request, or one chunk of a split request. */
interface Task {
  readonly rows: number;
  readonly tenant: string | undefined;
  readonly enqueuedAt: number;
  readonly shapeKey: string;
  readonly inputs: TensorMap;
  readonly outputNames: readonly string[];
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: RequestResult) => void;
  readonly reject: (err: ServingError) => void;
  readonly onStart: (() => void) | undefined;
  timer?: TimerHandle;
  onAbort?: () => void;
}

/**
 * The queue of one model version: admission (size limits, queue bounds), deadlines and
 * cancellation while queued, batch formation (fair across tenants, shape-compatible, closed
 * when full, mixed or timed out) and running batches on the executor. Owned by the
 * BatchScheduler; the device dispatcher decides when its batches start.
 */
export class ModelQueue implements DispatchQueue {
  readonly key: string;
  readonly modelName: string;
  readonly order: number;
  readonly executor: BatchExecutor;
  readonly #o: ModelQueueOptions;
  readonly #queue: FairQueue<Task>;
  /** Rows one executed batch may hold. */
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #batched: boolean;
  /** Queued tasks per shape key: more than one key means the open batch is closed. */
  readonly #shapes = new Map<string, number>();
  readonly #rowsRun = new Map<string | undefined, number>();
  #running = 0;
  #closing = false;
  #timer: TimerHandle | undefined;
  #timerDue = Number.NaN;
  #drained: (() => void)[] = [];

  constructor(options: ModelQueueOptions) {
    validateBatching(options.batching);
    this.#o = options;
    this.key = options.key;
    this.modelName = options.modelName;
    this.order = options.order;
    this.executor = options.executor;
    this.#queue = new FairQueue<Task>(options.weights);
    const b = options.batching;
    this.#batched = options.signature.batched;
    this.#capacity = !this.#batched
      ? 1
      : b.enableLargeBatchSplitting
        ? b.maxExecutionBatchSize
        : b.maxBatchSize;
    this.#timeoutMs = b.batchTimeoutMicros / 1000;
  }

  get pendingRequests(): number {
    return this.#queue.size;
  }

  get pendingRows(): number {
    return this.#queue.rows;
  }

  get runningBatches(): number {
    return this.#running;
  }

  get headTenant(): string | undefined {
    return this.#queue.nextTenant();
  }

  get rowsRunByTenant(): ReadonlyMap<string | undefined, number> {
    return this.#rowsRun;
  }

  oldestEnqueuedAt(): number | undefined {
    return this.#queue.oldest()?.enqueuedAt;
  }

  /** Queues a request; rejects with a ServingError (see BatchScheduler.enqueue). */
  enqueue(req: QueuedRequest): Promise<RequestResult> {
    if (this.#closing) return Promise.reject(schedulerErrors.draining(this.key));
    const b = this.#o.batching;
    const rows = this.#batched ? rowsOf(req.inputs) : 1;
    if (rows > b.maxBatchSize && !b.enableLargeBatchSplitting) {
      return Promise.reject(schedulerErrors.tooLarge(rows, b.maxBatchSize));
    }
    const fullByRows = this.#queue.rows + rows > b.maxEnqueuedBatches * this.#capacity;
    if (fullByRows || (b.maxQueueSize > 0 && this.#queue.size >= b.maxQueueSize)) {
      return Promise.reject(schedulerErrors.queueFull());
    }
    if (rows <= this.#capacity) return this.#push(req, req.inputs, rows, req.signal);
    return runInChunks(req.inputs, rows, this.#capacity, req.signal, (inputs, n, signal) =>
      this.#push(req, inputs, n, signal),
    );
  }

  ready(now: number): boolean {
    if (this.#queue.size === 0 || this.#running >= this.#o.batching.numBatchThreads) return false;
    // Handing the batch over now would only queue it inside the pool: let it grow instead.
    if (this.executor.freeSlotsFor !== undefined && this.executor.freeSlotsFor(this.key) <= 0) return false;
    if (this.#closing || this.#queue.rows >= this.#capacity) return true;
    // Differently shaped requests close the open batch only when they cannot share it.
    if (this.#shapes.size > 1 && !this.#o.batching.padVariableLengthInputs) return true;
    return now - this.#queue.oldest()!.enqueuedAt >= this.#timeoutMs;
  }

  startBatch(): void {
    const now = this.#o.clock.now();
    let shape: string | undefined;
    const mixes = this.#batched && !this.#o.batching.padVariableLengthInputs;
    const accept = (t: Task) => {
      shape ??= t.shapeKey;
      return !mixes || t.shapeKey === shape;
    };
    const tasks: Task[] = [];
    for (const task of this.#queue.take(this.#capacity, accept)) {
      this.#dequeued(task);
      if (task.deadline <= now) task.reject(schedulerErrors.deadlineExceeded());
      else {
        task.onStart?.();
        tasks.push(task);
        this.#rowsRun.set(task.tenant, (this.#rowsRun.get(task.tenant) ?? 0) + task.rows);
      }
    }
    this.#changed();
    if (tasks.length > 0) void this.#run(tasks, now);
    else this.#checkDrained();
  }

  /** Stops accepting; resolves once queued and running work has finished. Idempotent. */
  close(): Promise<void> {
    this.#closing = true;
    this.#changed();
    this.#o.notify();
    return new Promise((resolve) => {
      this.#drained.push(resolve);
      this.#checkDrained();
    });
  }

  #push(req: QueuedRequest, inputs: TensorMap, rows: number, signal: AbortSignal | undefined) {
    return new Promise<RequestResult>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const now = this.#o.clock.now();
      const queueTimeout = this.#o.batching.defaultQueueTimeoutMicros;
      const deadline = Math.min(
        req.deadline ?? Infinity,
        queueTimeout > 0 ? now + queueTimeout / 1000 : Infinity,
      );
      if (deadline <= now) return reject(schedulerErrors.deadlineExceeded());
      const shapeKey = this.#batched ? shapeKeyOf(inputs) : '';
      const task: Task = {
        rows,
        tenant: req.tenant,
        enqueuedAt: now,
        shapeKey,
        inputs,
        outputNames: req.outputNames,
        deadline,
        signal,
        resolve,
        reject,
        onStart: req.onStart,
      };
      if (deadline !== Infinity) {
        task.timer = this.#o.clock.setTimer(
          () => this.#withdraw(task, schedulerErrors.deadlineExceeded()),
          deadline - now,
        );
      }
      if (signal !== undefined) {
        task.onAbort = () => this.#withdraw(task, abortError(signal));
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.#queue.push(task);
      this.#shapes.set(shapeKey, (this.#shapes.get(shapeKey) ?? 0) + 1);
      this.#changed();
      this.#o.notify();
    });
  }

  /** Removes a still-queued task (deadline passed or cancelled); no-op once it is running. */
  #withdraw(task: Task, err: ServingError): void {
    if (!this.#queue.remove(task)) return;
    this.#dequeued(task);
    task.reject(err);
    this.#changed();
    this.#checkDrained();
  }

  #dequeued(task: Task): void {
    if (task.timer !== undefined) this.#o.clock.clearTimer(task.timer);
    if (task.onAbort !== undefined) task.signal?.removeEventListener('abort', task.onAbort);
    const left = this.#shapes.get(task.shapeKey)! - 1;
    if (left === 0) this.#shapes.delete(task.shapeKey);
    else this.#shapes.set(task.shapeKey, left);
  }

  async #run(tasks: Task[], startedAt: number): Promise<void> {
    this.#running++;
    const rows = tasks.map((t) => t.rows);
    const total = rows.reduce((a, b) => a + b, 0);
    // Validation makes the last allowed size the capacity; the cap keeps padding within it regardless.
    const padded = this.#batched
      ? Math.min(paddedBatchSize(total, this.#o.batching.allowedBatchSizes), this.#capacity)
      : total;
    try {
      const inputs = this.#batched
        ? assembleBatch(
            tasks.map((t) => t.inputs),
            padded,
            this.#o.batching.padVariableLengthInputs,
          )
        : copyTensors(tasks[0].inputs);
      const result = await this.#o.executor.run(this.key, inputs, outputNamesOf(tasks));
      const parts = this.#batched ? splitOutputs(result.outputs, rows) : [result.outputs];
      this.#o.onBatch?.({
        key: this.key,
        modelName: this.#o.modelName,
        rows: total,
        paddedRows: padded,
        timings: result.timings,
      });
      for (let i = 0; i < tasks.length; i++) {
        tasks[i].resolve({
          outputs: pick(parts[i], tasks[i].outputNames),
          queueMicros: (startedAt - tasks[i].enqueuedAt) * 1000,
          batchSize: total,
          paddedSize: padded,
          timings: result.timings,
        });
      }
    } catch (err) {
      const error = ServingError.from(err);
      for (const task of tasks) task.reject(error);
    } finally {
      // Counted done before the dispatcher fills the slot, so this model competes for it.
      this.#running--;
      this.#checkDrained();
      (this.#o.settled ?? this.#o.notify)();
    }
  }

  /** Keeps the batch-timeout timer on the oldest request's due time. */
  #changed(): void {
    const oldest = this.#queue.oldest();
    const due = oldest === undefined || this.#closing ? Number.NaN : oldest.enqueuedAt + this.#timeoutMs;
    if (due === this.#timerDue) return;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerDue = due;
    if (Number.isNaN(due) || this.#timeoutMs === 0) return;
    this.#timer = this.#o.clock.setTimer(() => {
      this.#timer = undefined;
      // Timers may fire a fraction of a millisecond before `due` on the clock's scale; then
      // the batch is not ready yet and nothing else would wake the queue, so re-arm for the
      // rest. Once due, a busy device wakes the queue itself when a slot frees.
      if (due > this.#o.clock.now()) {
        this.#timerDue = Number.NaN;
        this.#changed();
        return;
      }
      this.#o.notify();
    }, due - this.#o.clock.now());
  }

  #checkDrained(): void {
    if (!this.#closing || this.#queue.size > 0 || this.#running > 0) return;
    const waiters = this.#drained;
    this.#drained = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * The error for a request withdrawn by its signal: the abort reason when it is a ServingError
 * (a front end aborting at a deadline says DEADLINE_EXCEEDED), CANCELLED otherwise.
 */
function abortError(signal: AbortSignal): ServingError {
  const reason: unknown = signal.reason;
  return reason instanceof ServingError ? reason : schedulerErrors.cancelled();
}

/** Outputs the batch must produce: the union of the requests' lists; empty (all) if any wants all. */
function outputNamesOf(tasks: readonly Task[]): readonly string[] {
  if (tasks.length === 1) return tasks[0].outputNames;
  const names = new Set<string>();
  for (const task of tasks) {
    if (task.outputNames.length === 0) return [];
    for (const name of task.outputNames) names.add(name);
  }
  return [...names];
}

function pick(outputs: TensorMap, names: readonly string[]): TensorMap {
  if (names.length === 0) return outputs;
  const picked: TensorMap = {};
  for (const name of names) if (name in outputs) picked[name] = outputs[name];
  return picked;
}
