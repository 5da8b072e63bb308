import type { Clock } from '../core/clock.js';
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
 * A slot freed by one of its queues' batches is filled only after that queue has settled the
 * batch (counted it done, so it may be ready again): the executor reports the free slot before
 * the batch's promise reactions run, and picking then would leave out a model limited to one
 * running batch, so on a one-slot device tenants would simply alternate whatever their
 * weights. So while any of its queues has a batch running, a slot-free report holds pumping
 * until a queue settles a batch (`batchSettled`), or until the end of the current event-loop
 * task for a slot freed by other work (a load), when every settled batch has reported.
 *
 * Relies on `executor.freeSlots()` and `freeSlotsFor()` dropping as soon as `run()` is called,
 * and on an executor settling a batch's promise in the same task as it reports its slot free.
 */
export class DeviceDispatcher {
  readonly executor: BatchExecutor;
  readonly #policy: SelectionPolicy;
  readonly #clock: Clock;
  #queues: DispatchQueue[] = [];
  #scheduled = false;
  /** Slots reported free while batches ran whose queues have not yet settled them. */
  #unsettled = 0;
  #lateScheduled = false;

  constructor(executor: BatchExecutor, policy: SelectionPolicy, clock: Clock) {
    this.executor = executor;
    this.#policy = policy;
    this.#clock = clock;
    executor.onSlotFree(() => this.#slotFreed());
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

  #slotFreed(): void {
    if (!this.#queues.some((q) => q.runningBatches > 0)) {
      this.schedule();
      return;
    }
    // Possibly one of our batches: wait for its queue to settle it (batchSettled).
    this.#unsettled++;
    if (this.#lateScheduled) return;
    this.#lateScheduled = true;
    // After every promise reaction of this task: a slot no queue settled was freed by other work.
    setImmediate(() => {
      this.#lateScheduled = false;
      this.#unsettled = 0;
      this.pump();
    });
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

  /**
   * Called by a queue once it has settled one of its batches (after updating its running
   * count); pumps unless other freed slots still wait for their queues.
   */
  batchSettled(): void {
    if (this.#unsettled > 0) this.#unsettled--;
    this.schedule();
  }

  /** Starts ready batches while the device has free slots. */
  pump(): void {
    if (this.#unsettled > 0) return;
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
