import type { CancelSignal } from '../core/cancel-signal.js';
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
import type { DispatchBatch, DispatchQueue } from './device-dispatcher.js';
import type { BatchExecutor, BatchResult, BatchTimings } from './executor.js';
import { FairQueue } from './fair-queue.js';
import { type BatchFault, bisect, shouldIsolate } from './fault-isolation.js';
import { runInChunks } from './large-request.js';
import type { QueuedRequest, RequestResult } from './queued-request.js';
import type { QueuedTask } from './queued-task.js';
import { schedulerErrors } from './scheduler-errors.js';

export interface ModelQueueOptions {
  readonly key: string;
  readonly modelName: string;
  /** The model version the key serves, for metrics (0 when the registration named none). */
  readonly version: number;
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
   * Called when a batch became ready for a request that arrived at an idle model (the
   * dispatcher's `scheduleTurn`: after the current event-loop turn, so requests arriving
   * together share it); defaults to `notify`.
   */
  readonly notifyTurn?: () => void;
  /** Called once per executed batch (success only), for metrics. Must not throw. */
  readonly onBatch?: (batch: ExecutedBatch) => void;
  /** Called when a failed batch is re-run in halves, and when a request fails alone after that. Must not throw. */
  readonly onFault?: (fault: BatchFault) => void;
}

/** One batch that ran: what per-batch metrics record. */
export interface ExecutedBatch {
  readonly key: string;
  readonly modelName: string;
  /** The model version that ran it (ModelRegistration.version; 0 when none was given). */
  readonly version: number;
  /** The device it ran on (its executor's). */
  readonly device: string;
  /** Rows of real requests. */
  readonly rows: number;
  /** Rows executed, padding included. */
  readonly paddedRows: number;
  readonly timings: BatchTimings;
}

/** A batch taken from the queue and not yet settled. */
interface FormedBatch extends DispatchBatch {
  readonly tasks: readonly QueuedTask[];
  readonly rows: readonly number[];
  readonly total: number;
  readonly padded: number;
  readonly startedAt: number;
  /** A group of a failed batch being re-run (fault isolation). */
  readonly isolating: boolean;
}

/**
 * The queue of one model version, a pure batcher: admission (size limits, queue bounds),
 * deadlines and cancellation while queued, batch formation (fair across tenants,
 * shape-compatible, closed when full, mixed or timed out; with eager dispatch, whenever a
 * worker is free for it), and settling finished batches into their requests' results, including
 * re-running a failed batch in smaller groups (fault-isolation.ts). It never runs anything:
 * the device dispatcher asks `ready`, `takeBatch`s, runs the batch on the executor and hands
 * the outcome back with `settle`. Owned by the BatchScheduler.
 *
 * One timer per queue covers both the batch timeout of the oldest request and the earliest
 * request deadline.
 */
export class ModelQueue implements DispatchQueue {
  readonly key: string;
  readonly modelName: string;
  readonly order: number;
  readonly executor: BatchExecutor;
  readonly #o: ModelQueueOptions;
  readonly #queue: FairQueue<QueuedTask>;
  /** Rows one executed batch may hold. */
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #batched: boolean;
  /** Queued tasks per shape key: more than one key means the open batch is closed. */
  readonly #shapes = new Map<string, number>();
  readonly #rowsRun = new Map<string | undefined, number>();
  /** Groups of failed batches waiting to be re-run, ahead of the queue. */
  #retries: QueuedTask[][] = [];
  /** Batches taken and not settled. */
  #running = 0;
  /**
   * The open batch was started by a request that found the model idle: it runs after the
   * current event-loop turn (the dispatcher's turn pump is due), so arrivals of the same
   * turn join it without pumping on their own.
   */
  #eager = false;
  #closing = false;
  #timer: TimerHandle | undefined;
  #timerDue = Number.NaN;
  /** No queued task has a deadline before this (a lower bound: it may be stale, never late). */
  #earliestDeadline = Number.POSITIVE_INFINITY;
  #drained: (() => void)[] = [];

  constructor(options: ModelQueueOptions) {
    validateBatching(options.batching);
    this.#o = options;
    this.key = options.key;
    this.modelName = options.modelName;
    this.order = options.order;
    this.executor = options.executor;
    this.#queue = new FairQueue<QueuedTask>(options.weights);
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
    return this.#retries.length > 0 ? this.#retries[0][0].tenant : this.#queue.nextTenant();
  }

  get rowsRunByTenant(): ReadonlyMap<string | undefined, number> {
    return this.#rowsRun;
  }

  oldestEnqueuedAt(): number | undefined {
    return this.#retries.length > 0 ? this.#retries[0][0].enqueuedAt : this.#queue.oldest()?.enqueuedAt;
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
    if (this.#retries.length === 0 && this.#queue.size === 0) return false;
    if (!this.#hasSlot()) return false;
    if (this.#retries.length > 0 || this.#closing) return true;
    // Work-conserving: a worker is free, whether the batch was started by a request that found
    // the model idle or formed while every worker was busy.
    if (this.#o.batching.eagerDispatch) return true;
    if (this.#queue.rows >= this.#capacity) return true;
    // Differently shaped requests close the open batch only when they cannot share it.
    if (this.#shapes.size > 1 && !this.#o.batching.padVariableLengthInputs) return true;
    return this.#timedOut(now);
  }

  takeBatch(now: number): DispatchBatch | undefined {
    const retry = this.#retries.shift();
    const tasks: QueuedTask[] = [];
    if (retry !== undefined) {
      for (const task of retry) {
        if (task.deadline <= now) task.reject(schedulerErrors.deadlineExceeded());
        else tasks.push(task);
      }
    } else {
      this.#eager = false;
      let shape: string | undefined;
      const mixes = this.#batched && !this.#o.batching.padVariableLengthInputs;
      const accept = (t: QueuedTask) => {
        shape ??= t.shapeKey;
        return !mixes || t.shapeKey === shape;
      };
      for (const task of this.#queue.take(this.#capacity, accept)) {
        this.#dequeued(task);
        if (task.deadline <= now) task.reject(schedulerErrors.deadlineExceeded());
        else {
          task.onStart?.();
          tasks.push(task);
          this.#rowsRun.set(task.tenant, (this.#rowsRun.get(task.tenant) ?? 0) + task.rows);
        }
      }
      this.#rearm();
    }
    if (tasks.length === 0) {
      this.#checkDrained();
      return undefined;
    }
    return this.#form(tasks, now, retry !== undefined);
  }

  settle(batch: DispatchBatch, result: BatchResult | undefined, error?: unknown): void {
    const b = batch as FormedBatch;
    this.#running--;
    try {
      if (result !== undefined) this.#resolve(b, result);
      else this.#fail(b, ServingError.from(error));
    } finally {
      this.#checkDrained();
    }
  }

  /** Stops accepting; resolves once queued and running work has finished. Idempotent. */
  close(): Promise<void> {
    this.#closing = true;
    this.#rearm();
    this.#o.notify();
    return new Promise((resolve) => {
      this.#drained.push(resolve);
      this.#checkDrained();
    });
  }

  /** Below numBatchThreads, and the executor has a free worker for this model. */
  #hasSlot(): boolean {
    if (this.#running >= this.#o.batching.numBatchThreads) return false;
    // Handing the batch over now would only queue it inside the pool: let it grow instead.
    const e = this.executor;
    return e.freeSlotsFor === undefined ? e.freeSlots() > 0 : e.freeSlotsFor(this.key) > 0;
  }

  #push(req: QueuedRequest, inputs: TensorMap, rows: number, signal: CancelSignal | undefined) {
    return new Promise<RequestResult>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const now = this.#o.clock.now();
      const queueTimeout = this.#o.batching.defaultQueueTimeoutMicros;
      const deadline = Math.min(
        req.deadline ?? Number.POSITIVE_INFINITY,
        queueTimeout > 0 ? now + queueTimeout / 1000 : Number.POSITIVE_INFINITY,
      );
      if (deadline <= now) return reject(schedulerErrors.deadlineExceeded());
      const shapeKey = this.#batched ? shapeKeyOf(inputs) : '';
      const task: QueuedTask = {
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
      if (signal !== undefined) {
        task.onAbort = () => this.#withdraw(task, abortError(signal));
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      // No batch forming and a worker free: this request starts one that runs at once.
      const starts =
        this.#o.batching.eagerDispatch &&
        this.#queue.size === 0 &&
        this.#retries.length === 0 &&
        this.#hasSlot();
      this.#queue.push(task);
      this.#shapes.set(shapeKey, (this.#shapes.get(shapeKey) ?? 0) + 1);
      if (deadline < this.#earliestDeadline) this.#earliestDeadline = deadline;
      if (starts) {
        this.#eager = true;
        this.#rearm();
        (this.#o.notifyTurn ?? this.#o.notify)();
        return;
      }
      this.#rearm();
      // The idle batch's turn pump is due: a pump now would only split this turn's arrivals.
      if (this.#eager && this.#queue.rows < this.#capacity) return;
      this.#o.notify();
    });
  }

  #form(tasks: QueuedTask[], now: number, isolating: boolean): FormedBatch | undefined {
    const rows = tasks.map((t) => t.rows);
    let total = 0;
    for (const r of rows) total += r;
    // Validation makes the last allowed size the capacity; the cap keeps padding within it regardless.
    const padded = this.#batched
      ? Math.min(paddedBatchSize(total, this.#o.batching.allowedBatchSizes), this.#capacity)
      : total;
    let inputs: TensorMap;
    try {
      inputs = this.#batched
        ? assembleBatch(
            tasks.map((t) => t.inputs),
            padded,
            this.#o.batching.padVariableLengthInputs,
          )
        : copyTensors(tasks[0].inputs);
    } catch (err) {
      const error = ServingError.from(err);
      for (const task of tasks) task.reject(error);
      this.#checkDrained();
      return undefined;
    }
    this.#running++;
    return {
      inputs,
      outputNames: outputNamesOf(tasks),
      tasks,
      rows,
      total,
      padded,
      startedAt: now,
      isolating,
    };
  }

  #resolve(b: FormedBatch, result: BatchResult): void {
    let parts: TensorMap[];
    try {
      parts = this.#batched ? splitOutputs(result.outputs, b.rows) : [result.outputs];
    } catch (err) {
      const error = ServingError.from(err);
      for (const task of b.tasks) task.reject(error);
      return;
    }
    this.#o.onBatch?.({
      key: this.key,
      modelName: this.#o.modelName,
      version: this.#o.version,
      device: this.executor.device,
      rows: b.total,
      paddedRows: b.padded,
      timings: result.timings,
    });
    for (let i = 0; i < b.tasks.length; i++) {
      const task = b.tasks[i];
      task.resolve({
        outputs: pick(parts[i], task.outputNames),
        queueMicros: (b.startedAt - task.enqueuedAt) * 1000,
        batchSize: b.total,
        paddedSize: b.padded,
        timings: result.timings,
      });
    }
  }

  #fail(b: FormedBatch, error: ServingError): void {
    const fault = { key: this.key, modelName: this.#o.modelName, code: error.code };
    if (shouldIsolate(error, b.tasks.length)) {
      this.#retries.unshift(...bisect(b.tasks));
      this.#o.onFault?.({ ...fault, event: 'bisected', requests: b.tasks.length });
      this.#o.notify();
      return;
    }
    if (b.isolating) this.#o.onFault?.({ ...fault, event: 'isolated', requests: b.tasks.length });
    for (const task of b.tasks) task.reject(error);
  }

  /** Removes a still-queued task (deadline passed or cancelled); no-op once it is running. */
  #withdraw(task: QueuedTask, err: ServingError): void {
    if (!this.#queue.remove(task)) return;
    this.#dequeued(task);
    task.reject(err);
    this.#rearm();
    this.#checkDrained();
  }

  #dequeued(task: QueuedTask): void {
    if (task.onAbort !== undefined) task.signal?.removeEventListener('abort', task.onAbort);
    const left = this.#shapes.get(task.shapeKey)! - 1;
    if (left === 0) this.#shapes.delete(task.shapeKey);
    else this.#shapes.set(task.shapeKey, left);
    if (this.#queue.size === 0) {
      this.#earliestDeadline = Number.POSITIVE_INFINITY;
      this.#eager = false;
    }
  }

  /** The oldest queued request has waited batchTimeoutMicros by `now` (one form for every check). */
  #timedOut(now: number): boolean {
    const oldest = this.#queue.oldest();
    return oldest !== undefined && oldest.enqueuedAt + this.#timeoutMs <= now;
  }

  /**
   * Keeps the queue's one timer on its next due time: the oldest request's batch timeout
   * (unless the open batch runs at once anyway), or the earliest deadline if sooner. `now` is
   * the caller's reading when it acts on the outcome (see #fired).
   */
  #rearm(now = this.#o.clock.now()): void {
    const oldest = this.#queue.oldest();
    let batchDue =
      oldest === undefined || this.#closing || this.#o.batching.eagerDispatch || this.#timeoutMs === 0
        ? Number.POSITIVE_INFINITY
        : oldest.enqueuedAt + this.#timeoutMs;
    // A batch already due is ready: it starts when a slot frees, which wakes the dispatcher.
    if (batchDue !== Number.POSITIVE_INFINITY && batchDue <= now) {
      batchDue = Number.POSITIVE_INFINITY;
    }
    const due = Math.min(batchDue, this.#earliestDeadline);
    if (due === this.#timerDue) return;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerDue = due;
    if (due === Number.POSITIVE_INFINITY) return;
    this.#timer = this.#o.clock.setTimer(() => this.#fired(), due - now);
  }

  #fired(): void {
    this.#timer = undefined;
    this.#timerDue = Number.NaN;
    const now = this.#o.clock.now();
    if (this.#earliestDeadline <= now) this.#expire(now);
    // Timers may fire a fraction of a millisecond before they are due on the clock's scale;
    // re-arming then waits for the rest. Once due, a busy device wakes the queue itself when
    // a slot frees. Re-arming and the notify decide on the same reading: with a later one,
    // re-arming could find the batch due and set no timer while this reading finds it not yet
    // due and does not notify, leaving the batch queued with nothing to start it.
    this.#rearm(now);
    if (this.#timedOut(now)) this.#o.notify();
  }

  /** Rejects every queued task whose deadline has passed; recomputes the earliest deadline. */
  #expire(now: number): void {
    const expired: QueuedTask[] = [];
    let earliest = Number.POSITIVE_INFINITY;
    for (const task of this.#queue.items()) {
      if (task.deadline <= now) expired.push(task);
      else if (task.deadline < earliest) earliest = task.deadline;
    }
    this.#earliestDeadline = earliest;
    for (const task of expired) this.#withdraw(task, schedulerErrors.deadlineExceeded());
  }

  #checkDrained(): void {
    if (!this.#closing || this.#queue.size > 0 || this.#running > 0 || this.#retries.length > 0) return;
    const waiters = this.#drained;
    this.#drained = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * The error for a request withdrawn by its signal: the abort reason when it is a ServingError
 * (a front end aborting at a deadline says DEADLINE_EXCEEDED), CANCELLED otherwise.
 */
function abortError(signal: CancelSignal): ServingError {
  const reason: unknown = signal.reason;
  return reason instanceof ServingError ? reason : schedulerErrors.cancelled();
}

/** Outputs the batch must produce: the union of the requests' lists; empty (all) if any wants all. */
function outputNamesOf(tasks: readonly QueuedTask[]): readonly string[] {
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
