import { type Clock, systemClock } from '../../core/clock.js';

export type TakeResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Whole seconds until the tokens will be there (at least 1): the HTTP `Retry-After` value. */
      readonly retryAfterSeconds: number;
      /** Exact milliseconds until the tokens will be there. */
      readonly retryAfterMs: number;
    };

/**
 * A token bucket: holds up to `burst` tokens, refilled continuously at `ratePerSecond`,
 * starting full. A failed `take` consumes nothing. Not thread-safe; owned by the main thread.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError('ratePerSecond must be a positive finite number');
    }
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError('burst must be a finite number >= 1');
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes `n` tokens if they are there. Throws RangeError when `n` exceeds `burst` (never satisfiable). */
  take(n = 1): TakeResult {
    if (!(n > 0) || n > this.burst) throw new RangeError(`n must be in (0, burst=${this.burst}], got ${n}`);
    this.refill();
    if (this.tokens >= n) {
      this.tokens -= n;
      return { ok: true };
    }
    const retryAfterMs = ((n - this.tokens) / this.ratePerSecond) * 1000;
    return { ok: false, retryAfterMs, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000 - 1e-9)) };
  }

  /**
   * Returns `n` tokens taken for a request that was then refused for another reason, so the
   * refusal costs nothing; never above `burst`.
   */
  giveBack(n = 1): void {
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens + n);
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const t = this.clock.now();
    // A clock that steps back must not drain the bucket.
    const elapsedMs = Math.max(0, t - this.last);
    this.last = Math.max(this.last, t);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs / 1000) * this.ratePerSecond);
  }
}
