import { Piscina } from 'piscina';
import type { ReplyOf, WorkerConfig, WorkerTask } from './worker-protocol.js';

export interface WorkerSlotOptions {
  readonly index: number;
  /** File URL of the worker entry. */
  readonly filename: string;
  readonly config: WorkerConfig;
  /** Milliseconds, monotonic; injectable so busy time can be tested. */
  readonly now: () => number;
  /** Called (in a microtask) when the slot's thread died outside close/destroy; piscina replaces it. */
  readonly onThreadLost: (slot: WorkerSlot) => void;
  /** Piscina 'error' events (a thread error with no task in flight). */
  readonly onError: (slot: WorkerSlot, err: unknown) => void;
}

/**
 * One worker thread of a device pool: a piscina pool of exactly one thread, so tasks can
 * be aimed at the thread that holds a session, and piscina's own replacement of a dead
 * thread gives the slot its new thread. The slot tracks what it holds (`models`) and how
 * busy it is; it knows nothing of placement. Owned by DevicePool.
 */
export class WorkerSlot {
  readonly index: number;
  /** Keys of the model versions whose sessions live (or are being restored) on this thread. */
  readonly models = new Set<string>();
  /** Batches in flight on this slot. */
  running = 0;
  /** Times the thread died and was replaced. */
  restarts = 0;

  readonly #piscina: Piscina;
  readonly #now: () => number;
  /** All tasks in flight (batches, loads, unloads); the slot is free at 0. */
  #tasks = 0;
  #busyMs = 0;
  #busySince = 0;
  #stopping = false;

  constructor(options: WorkerSlotOptions) {
    this.index = options.index;
    this.#now = options.now;
    this.#piscina = new Piscina({
      filename: options.filename,
      minThreads: 1,
      maxThreads: 1,
      // Sessions live in the thread: never reap it for idleness.
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      workerData: options.config,
    });
    this.#piscina.on('workerDestroy', () => {
      if (this.#stopping) return;
      queueMicrotask(() => options.onThreadLost(this));
    });
    this.#piscina.on('error', (err: unknown) => options.onError(this, err));
  }

  get free(): boolean {
    return this.#tasks === 0 && !this.#stopping;
  }

  /** Tasks waiting inside piscina behind the running one. */
  get queued(): number {
    return this.#piscina.queueSize;
  }

  /** Milliseconds this slot has spent with at least one task in flight, up to now. */
  busyMs(): number {
    return this.#busyMs + (this.#tasks > 0 ? this.#now() - this.#busySince : 0);
  }

  /**
   * Runs one task on this slot's thread. Rejects only when the thread dies or the slot is
   * destroyed; runtime failures resolve as `{ ok: false }`.
   */
  async call<T extends WorkerTask>(task: T, transferList: ArrayBuffer[] = []): Promise<ReplyOf<T>> {
    if (this.#tasks++ === 0) this.#busySince = this.#now();
    try {
      return (await this.#piscina.run(task, { transferList })) as ReplyOf<T>;
    } finally {
      if (--this.#tasks === 0) this.#busyMs += this.#now() - this.#busySince;
    }
  }

  /** Waits for tasks in flight and queued, then ends the thread. */
  async close(): Promise<void> {
    this.#stopping = true;
    await this.#piscina.close();
  }

  /** Ends the thread now; tasks in flight reject. */
  async destroy(): Promise<void> {
    this.#stopping = true;
    await this.#piscina.destroy();
  }
}
