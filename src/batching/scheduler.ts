import { type Clock, systemClock } from '../core/clock.js';
import type { Signature } from '../core/signature.js';
import type { BatchingOptions } from './batching-options.js';
import { DeviceDispatcher } from './device-dispatcher.js';
import type { BatchExecutor } from './executor.js';
import type { BatchFault } from './fault-isolation.js';
import { type ExecutedBatch, ModelQueue } from './model-queue.js';
import type { QueuedRequest, RequestResult } from './queued-request.js';
import { schedulerErrors } from './scheduler-errors.js';
import { RoundRobinPolicy, type SelectionPolicy } from './selection-policy.js';

export type { BatchFault } from './fault-isolation.js';
export type { ExecutedBatch } from './model-queue.js';
export type { QueuedRequest, RequestResult } from './queued-request.js';

export interface BatchSchedulerOptions {
  /** Time source; the real clock by default. Tests inject a manual one. */
  readonly clock?: Clock;
  /** Makes the policy that picks the next model on a device; round-robin by default. */
  readonly selectionPolicy?: (device: string) => SelectionPolicy;
  /** Called once per executed batch (metrics). Must not throw. */
  readonly onBatch?: (batch: ExecutedBatch) => void;
  /** Called when a failed batch is re-run in halves, and when a request fails alone after that (metrics). Must not throw. */
  readonly onFault?: (fault: BatchFault) => void;
}

export interface ModelRegistration {
  /** The device pool the model version runs on; models on one executor share its slots. */
  readonly executor: BatchExecutor;
  readonly signature: Signature;
  readonly batching: BatchingOptions;
  /** For metrics and policies; defaults to the key. */
  readonly modelName?: string;
  /** The model version the key serves, carried on its ExecutedBatch records; default 0. */
  readonly version?: number;
}

/**
 * The dynamic batch scheduler (TF Serving's shared batch scheduler with Triton's
 * take-when-free batching): one queue per model version key, one dispatcher per device.
 * "Batching off" is maxBatchSize 1 on the same path. Owned by the model manager, which adds
 * a version's queue when it loads and removes it before unloading; front ends reach it
 * through the inference core. Single-threaded: call from the main thread only.
 */
export class BatchScheduler {
  readonly clock: Clock;
  readonly #policy: (device: string) => SelectionPolicy;
  readonly #queues = new Map<string, ModelQueue>();
  readonly #registrations = new Map<string, ModelRegistration>();
  readonly #dispatchers = new Map<BatchExecutor, DeviceDispatcher>();
  readonly #weights = new Map<string | undefined, number>();
  #order = 0;
  #closed = false;

  readonly #onBatch: ((batch: ExecutedBatch) => void) | undefined;
  readonly #onFault: ((fault: BatchFault) => void) | undefined;

  constructor(options: BatchSchedulerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.#onBatch = options.onBatch;
    this.#onFault = options.onFault;
    this.#policy = options.selectionPolicy ?? (() => new RoundRobinPolicy());
  }

  /**
   * Registers a model version's queue. Throws ServingError: ALREADY_EXISTS for a key in
   * use (including one still draining), INVALID_ARGUMENT for bad batching options,
   * UNAVAILABLE after close().
   */
  addModel(key: string, registration: ModelRegistration): void {
    if (this.#closed) throw schedulerErrors.closed();
    if (this.#queues.has(key)) throw schedulerErrors.duplicateModel(key);
    const { executor } = registration;
    let dispatcher = this.#dispatchers.get(executor);
    if (dispatcher === undefined) {
      dispatcher = new DeviceDispatcher(executor, this.#policy(executor.device), this.clock);
      this.#dispatchers.set(executor, dispatcher);
    }
    const queue = this.#newQueue(key, registration, dispatcher, this.#order++);
    this.#registrations.set(key, registration);
    this.#queues.set(key, queue);
    dispatcher.add(queue);
  }

  /**
   * New batching options for a registered key (a config reload): a new queue takes the key's
   * requests from now on, the old one finishes those it holds. Unknown keys are ignored.
   * Throws ServingError INVALID_ARGUMENT for bad options, changing nothing.
   */
  setBatching(key: string, batching: BatchingOptions): void {
    const old = this.#queues.get(key);
    const registration = this.#registrations.get(key);
    const dispatcher = old && this.#dispatchers.get(old.executor);
    if (this.#closed || old === undefined || registration === undefined || dispatcher === undefined) return;
    const next = { ...registration, batching };
    const queue = this.#newQueue(key, next, dispatcher, this.#order++);
    this.#registrations.set(key, next);
    this.#queues.set(key, queue);
    dispatcher.add(queue);
    void old.close().then(() => dispatcher.remove(old));
  }

  #newQueue(key: string, r: ModelRegistration, dispatcher: DeviceDispatcher, order: number): ModelQueue {
    return new ModelQueue({
      key,
      modelName: r.modelName ?? key,
      version: r.version ?? 0,
      order,
      executor: r.executor,
      signature: r.signature,
      batching: r.batching,
      clock: this.clock,
      weights: this.#weights,
      notify: () => dispatcher.schedule(),
      notifyTurn: () => dispatcher.scheduleTurn(),
      onBatch: this.#onBatch,
      onFault: this.#onFault,
    });
  }

  /**
   * Stops accepting requests for `key` (they get UNAVAILABLE) and resolves once its queued
   * and running work has finished; the key may then be added again. Unknown keys resolve.
   */
  async removeModel(key: string): Promise<void> {
    const queue = this.#queues.get(key);
    if (queue === undefined) return;
    await queue.close();
    this.#dispatchers.get(queue.executor)?.remove(queue);
    if (this.#queues.get(key) === queue) {
      this.#queues.delete(key);
      this.#registrations.delete(key);
    }
  }

  /**
   * Queues a request for the model version `key` and resolves with its rows of the batch's
   * outputs. Never blocks. Rejects with ServingError: NOT_FOUND (unknown key), UNAVAILABLE
   * (queue full, model draining, scheduler closed), INVALID_ARGUMENT (more rows than
   * maxBatchSize without splitting), DEADLINE_EXCEEDED (deadline or the model's queue
   * timeout passed while queued), CANCELLED (signal aborted while queued), or the
   * executor's error for the batch it ran in; when a batch of several requests fails in the
   * runtime, its requests are re-run in smaller groups so that only a request that fails on
   * its own gets the error (fault-isolation.ts).
   */
  enqueue(key: string, request: QueuedRequest): Promise<RequestResult> {
    if (this.#closed) return Promise.reject(schedulerErrors.closed());
    const queue = this.#queues.get(key);
    if (queue === undefined) return Promise.reject(schedulerErrors.unknownModel(key));
    return queue.enqueue(request);
  }

  /** Queued (not yet running) requests of one model, or of all; a split request counts per chunk. */
  pending(key?: string): number {
    if (key !== undefined) return this.#queues.get(key)?.pendingRequests ?? 0;
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.pendingRequests;
    return n;
  }

  /** Sets a tenant's share of every model's batches (default 1); RangeError unless positive. */
  setTenantWeight(tenant: string | undefined, weight: number): void {
    if (!(weight > 0) || !Number.isFinite(weight))
      throw new RangeError('tenant weight must be a positive number');
    this.#weights.set(tenant, weight);
  }

  /** Refuses new requests (UNAVAILABLE) and resolves once all queued and running work has finished. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#queues.keys()].map((key) => this.removeModel(key)));
  }
}
