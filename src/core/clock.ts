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

/**
 * Below this many ms a wait is made of event-loop turns (setImmediate) rather than a timer:
 * Node runs any `setTimeout` under 1 ms after 1 ms or more, which would make a 100 µs batch
 * timeout cost ten times its value. A sub-millisecond wait keeps the main thread turning
 * (I/O is still polled every turn) for at most this long.
 */
export const SUB_MS_WAIT_LIMIT_MS = 1;

/** A pending systemClock timer: a setTimeout, or a chain of setImmediate turns for short waits. */
interface SystemTimer {
  cleared: boolean;
  timeout: ReturnType<typeof setTimeout> | undefined;
  immediate: ReturnType<typeof setImmediate> | undefined;
}

const monotonicNow = () => performance.timeOrigin + performance.now();

/**
 * The real clock: sub-millisecond `now()` anchored on the process start's epoch time.
 * Waits of 1 ms or more use setTimeout; shorter ones (0 included) use setImmediate turns
 * until due, so they cost their own length, not Node's 1 ms timer floor.
 */
export const systemClock: Clock = {
  now: monotonicNow,
  setTimer: (cb, ms) => {
    const timer: SystemTimer = { cleared: false, timeout: undefined, immediate: undefined };
    if (ms >= SUB_MS_WAIT_LIMIT_MS) {
      timer.timeout = setTimeout(cb, safeDelay(ms));
      return timer;
    }
    const due = monotonicNow() + Math.max(0, ms);
    const turn = () => {
      timer.immediate = undefined;
      if (timer.cleared) return;
      if (monotonicNow() >= due) cb();
      else timer.immediate = setImmediate(turn);
    };
    timer.immediate = setImmediate(turn);
    return timer;
  },
  clearTimer: (handle) => {
    const timer = handle as SystemTimer | undefined;
    if (timer === undefined) return;
    timer.cleared = true;
    if (timer.timeout !== undefined) clearTimeout(timer.timeout);
    if (timer.immediate !== undefined) clearImmediate(timer.immediate);
  },
};

/**
 * The wall clock of the lifecycle: `now()` is Date.now() (version states and retries are
 * reported in wall time). Its timers keep the process alive (a pending load retry must finish).
 */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimer: (cb, ms) => setTimeout(cb, safeDelay(ms)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
