import type { Clock } from './clock.js';
import type { BatchExecutor } from './executor.js';
import type { BatchCandidate, SelectionPolicy } from './selection-policy.js';

/** A model queue as the dispatcher drives it. */
export interface DispatchQueue extends BatchCandidate {
  /**
   * True when a batch may start now: one is closed or timed out, the model is below its
   * numBatchThreads, and the executor has a free slot for this model (`freeSlotsFor`).
   */
  ready(now: number): boolean;
  /**
   * Forms the next batch and hands it to the executor. May start nothing when every taken
   * request had expired; it then still removed at least one request, so pumping progresses.
   */
  startBatch(): void;
}

/**
 * One per device (executor): every model placed on the device registers its queue here.
 * Whenever the device frees a slot or a queue changes, it starts ready batches while the
 * device has free slots, letting the selection policy pick among ready models, so one busy
 * model cannot starve another. Pumps run in a microtask, so requests arriving in the same
 * tick can share a batch. Owned by the BatchScheduler.
 *
 * A queue whose model has no free slot (its workers are busy while others are free) is not
 * ready, so the policy skips it and its batch keeps growing; the executor's slot-free
 * callback pumps again when one of its workers frees.
 *
 * Relies on `executor.freeSlots()` and `freeSlotsFor()` dropping as soon as `run()` is called.
 */
export class DeviceDispatcher {
  readonly executor: BatchExecutor;
  readonly #policy: SelectionPolicy;
  readonly #clock: Clock;
  #queues: DispatchQueue[] = [];
  #scheduled = false;

  constructor(executor: BatchExecutor, policy: SelectionPolicy, clock: Clock) {
    this.executor = executor;
    this.#policy = policy;
    this.#clock = clock;
    executor.onSlotFree(() => this.schedule());
  }

  get size(): number {
    return this.#queues.length;
  }

  add(queue: DispatchQueue): void {
    this.#queues.push(queue);
  }

  remove(queue: DispatchQueue): void {
    this.#queues = this.#queues.filter((q) => q !== queue);
  }

  /** Asks for a pump soon (coalesced); called by queues on change and by the executor. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
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
      next.startBatch();
    }
  }
}
