/**
 * Turns a device's cumulative busy seconds into a recent utilization: the busy fraction over
 * the interval since the previous sample (at least `minWindowMs` long), so the gauge follows
 * the load instead of averaging the whole uptime. Main thread only; the clock is injectable.
 */
export class UtilizationWindow {
  private readonly last = new Map<string, { atMs: number; busySeconds: number; value: number }>();

  constructor(
    private readonly minWindowMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Busy fraction (0..1) of `workers` workers of `device` over the recent window, or
   * `fallback` (e.g. the lifetime average) until a window has passed since the first sample.
   */
  sample(device: string, busySeconds: number, workers: number, fallback = 0): number {
    const at = this.now();
    const prev = this.last.get(device);
    if (prev === undefined) {
      this.last.set(device, { atMs: at, busySeconds, value: fallback });
      return fallback;
    }
    const elapsedMs = at - prev.atMs;
    if (elapsedMs < this.minWindowMs) return prev.value;
    const capacity = (elapsedMs / 1000) * Math.max(workers, 1);
    const value = Math.min(1, Math.max(0, (busySeconds - prev.busySeconds) / capacity));
    this.last.set(device, { atMs: at, busySeconds, value });
    return value;
  }
}
