import type { Clock } from '../core/clock.js';
import type { TensorMap } from '../core/tensor.js';
import type { BatchExecutor, BatchResult } from './executor.js';
import type { BatchCandidate, SelectionPolicy } from './selection-policy.js';

/** A batch a queue formed: what the executor runs. The queue keeps the rest to itself. */
export interface DispatchBatch {
  /** One fresh (transferable) buffer per input; the executor takes ownership. */
  readonly inputs: TensorMap;
  readonly outputNames: readonly string[];
}

/** A model queue as the dispatcher drives it (ModelQueue: a pure batcher). */
export interface DispatchQueue extends BatchCandidate {
  /**
   * True when a batch may start now: one is closed, timed out, or started by a request that
   * found the model idle, or a failed batch's group waits to be re-run; the model is below
   * its numBatchThreads, and the executor has a free slot for it (`freeSlotsFor`).
   */
  ready(now: number): boolean;
  /**
   * Takes the next batch out of the queue (counted running until `settle`). May return
   * undefined when every taken request had expired; it then still removed at least one
   * request, so pumping progresses.
   */
  takeBatch(now: number): DispatchBatch | undefined;
  /** Hands back the outcome of a taken batch: its result, or the error it failed with. */
  settle(batch: DispatchBatch, result: BatchResult | undefined, error?: unknown): void;
}

/**
 * One per device (executor): every model placed on the device registers its queue here,
 * and the dispatcher owns execution. While the device has free slots it takes a batch from
 * a ready queue (the selection policy picks among ready models, so one busy model cannot
 * starve another), runs it on the executor, and when the run settles hands the outcome back
 * to its queue and fills the freed slot, in that order, so the model whose batch finished
 * competes for the slot it freed (a model limited to one running batch would otherwise be
 * left out, and on a one-slot device tenants would simply alternate whatever their weights).
 * Owned by the BatchScheduler.
 *
 * Busy/free is explicit, in the style of undici's dispatch/drain: the dispatcher counts the
 * batches it has in flight and learns of their end from the run's own promise; the
 * executor's slot-free callback only matters for slots freed by other work (a load, a
 * replaced worker), so while batches of its own are in flight it pumps after the current
 * event-loop turn, when their settlements have run.
 *
 * Queue changes pump in a microtask (`schedule`), so requests arriving in the same tick can
 * share a batch; a request that found its model idle pumps after the current event-loop
 * turn (`scheduleTurn`, setImmediate: no timer, no 1 ms floor), so requests whose bytes
 * arrived in the same I/O poll share its batch.
 *
 * A queue whose model has no free slot (its workers are busy while others are free) is not
 * ready, so the policy skips it and its batch keeps growing.
 *
 * Relies on `executor.freeSlots()` and `freeSlotsFor()` dropping as soon as `run()` is called.
 */
export class DeviceDispatcher {
  readonly executor: BatchExecutor;
  readonly #policy: SelectionPolicy;
  readonly #clock: Clock;
  #queues: DispatchQueue[] = [];
  #scheduled = false;
  #turnScheduled = false;
  /** Batches handed to the executor and not yet settled. */
  #busy = 0;

  constructor(executor: BatchExecutor, policy: SelectionPolicy, clock: Clock) {
    this.executor = executor;
    this.#policy = policy;
    this.#clock = clock;
    executor.onSlotFree(() => (this.#busy > 0 ? this.scheduleTurn() : this.schedule()));
  }

  get size(): number {
    return this.#queues.length;
  }

  /** Batches running on the executor now. */
  get busy(): number {
    return this.#busy;
  }

  add(queue: DispatchQueue): void {
    this.#queues.push(queue);
  }

  remove(queue: DispatchQueue): void {
    this.#queues = this.#queues.filter((q) => q !== queue);
  }

  /** Asks for a pump in a microtask (coalesced); called by queues on change. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.pump();
    });
  }

  /** Asks for a pump after the current event-loop turn (coalesced). */
  scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    setImmediate(() => {
      this.#turnScheduled = false;
      this.pump();
    });
  }

  /** Starts ready batches while the device has free slots. */
  pump(): void {
    const now = this.#clock.now();
    while (this.executor.freeSlots() > 0) {
      const ready = this.#queues.filter((q) => q.ready(now));
      if (ready.length === 0) return;
      const next = this.#policy.select(ready);
      if (next === undefined) return;
      const batch = next.takeBatch(now);
      if (batch !== undefined) this.#run(next, batch);
    }
  }

  #run(queue: DispatchQueue, batch: DispatchBatch): void {
    this.#busy++;
    let running: Promise<BatchResult>;
    try {
      running = this.executor.run(queue.key, batch.inputs, batch.outputNames);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (result) => this.#settled(queue, batch, result, undefined),
      (err: unknown) => this.#settled(queue, batch, undefined, err),
    );
  }

  #settled(queue: DispatchQueue, batch: DispatchBatch, result: BatchResult | undefined, err: unknown): void {
    this.#busy--;
    try {
      queue.settle(batch, result, err);
    } finally {
      this.pump();
    }
  }
}
