/** Largest delay Node's timers honour (2^31 - 1 ms); a longer one fires after 1 ms, with a warning. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A timer delay Node honours: negative and NaN become 0, anything above MAX_TIMER_MS becomes
 * MAX_TIMER_MS (so no TimeoutOverflowWarning, which is not JSON, reaches the logs).
 */
export function safeDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/** Opaque handle of a timer set through a Clock. */
export type TimerHandle = unknown;

/**
 * The one time source of the server, injectable so tests can step time by hand: the batch
 * scheduler (deadlines, batch timeouts), the lifecycle (source polls, load retries) and
 * tenancy's token buckets (which read only `now`) all take one.
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
  setTimer: (cb, ms) => setTimeout(cb, safeDelay(ms)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The wall clock of the lifecycle: `now()` is Date.now() (version states and retries are
 * reported in wall time). Its timers keep the process alive (a pending load retry must finish).
 */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimer: (cb, ms) => setTimeout(cb, Math.max(0, ms)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
