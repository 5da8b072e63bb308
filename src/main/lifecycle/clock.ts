import { safeDelay } from '../../core/clock.js';

/** Opaque handle of a timer set through a LifecycleClock. */
export type LifecycleTimer = unknown;

/**
 * Time source of the lifecycle (source polling, load retries), injectable so tests step
 * time by hand. Same shape as the batch scheduler's Clock, so one object can serve both.
 * `now()` is milliseconds on the Date.now() scale; `setTimer` calls `cb` once, about `ms`
 * from now; `clearTimer` cancels it (a no-op for a fired or cleared timer).
 */
export interface LifecycleClock {
  now(): number;
  setTimer(cb: () => void, ms: number): LifecycleTimer;
  clearTimer(handle: LifecycleTimer): void;
}

/** The real clock. Its timers keep the process alive (a pending load retry must finish). */
export const systemLifecycleClock: LifecycleClock = {
  now: () => Date.now(),
  setTimer: (cb, ms) => setTimeout(cb, safeDelay(ms)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
