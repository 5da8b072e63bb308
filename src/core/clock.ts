/** Opaque handle of a timer set through a Clock. */
export type TimerHandle = unknown;

/**
 * Time source of the batch scheduler, injectable so tests can step time by hand.
 * `now()` is in milliseconds on the Date.now() epoch scale (fractional allowed): request
 * deadlines are compared against it. `setTimer` calls `cb` once, about `ms` from now;
 * `clearTimer` cancels it (a no-op for a fired or cleared timer).
 */
export interface Clock {
  now(): number;
  setTimer(cb: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: sub-millisecond `now()` anchored on the process start's epoch time. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer: (cb, ms) => setTimeout(cb, Math.max(0, ms)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
