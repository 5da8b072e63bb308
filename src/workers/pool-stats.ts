import type { WorkerSlot } from './worker-slot.js';

export interface WorkerStats {
  readonly index: number;
  /** Batches in flight (0 or 1 normally). */
  readonly running: number;
  /** Tasks waiting inside the worker's queue. */
  readonly queued: number;
  readonly models: number;
  readonly restarts: number;
  /** Seconds with a task in flight since the pool started (a counter). */
  readonly busySeconds: number;
  /** busySeconds / seconds since the pool started, 0..1. */
  readonly utilization: number;
}

export interface DevicePoolStats {
  readonly device: string;
  readonly workers: number;
  /** Workers running a batch now. */
  readonly busy: number;
  /** Batches in flight across the pool. */
  readonly running: number;
  readonly queued: number;
  readonly freeSlots: number;
  readonly busySeconds: number;
  /** Mean utilization over the workers since the pool started, 0..1. */
  readonly utilization: number;
  readonly restarts: number;
  readonly perWorker: readonly WorkerStats[];
}

/** Snapshot of a pool's slots; `elapsedMs` is the time since the pool started. */
export function poolStats(
  device: string,
  slots: readonly WorkerSlot[],
  freeSlots: number,
  elapsedMs: number,
): DevicePoolStats {
  const elapsed = Math.max(elapsedMs, 1e-9);
  const perWorker = slots.map((slot): WorkerStats => {
    const busyMs = slot.busyMs();
    return {
      index: slot.index,
      running: slot.running,
      queued: slot.queued,
      models: slot.models.size,
      restarts: slot.restarts,
      busySeconds: busyMs / 1000,
      utilization: Math.min(1, busyMs / elapsed),
    };
  });
  const sum = (f: (w: WorkerStats) => number) => perWorker.reduce((acc, w) => acc + f(w), 0);
  return {
    device,
    workers: perWorker.length,
    busy: perWorker.filter((w) => w.running > 0).length,
    running: sum((w) => w.running),
    queued: sum((w) => w.queued),
    freeSlots,
    busySeconds: sum((w) => w.busySeconds),
    utilization: perWorker.length === 0 ? 0 : sum((w) => w.utilization) / perWorker.length,
    restarts: sum((w) => w.restarts),
    perWorker,
  };
}
