import type { CancelSignal } from '../../core/cancel-signal.js';
import { safeDelay } from '../../core/clock.js';
import { ServingError } from '../../core/errors.js';

/** Gives the slot back; extra calls are ignored. */
export type ReleaseSlot = () => void;

interface Waiter {
  readonly grant: (release: ReleaseSlot) => void;
  cleanup: () => void;
}

interface TenantSlots {
  limit: number;
  used: number;
  readonly waiters: Waiter[];
}

const NOOP: ReleaseSlot = () => {};

/**
 * A tenant's `max_in_flight`: the most requests of one tenant inside the batch scheduler at
 * once (waiting for a batch or running in one). Requests over it wait here, first come first
 * served, and count as queued (against `max_queued`) meanwhile. Owned by the prediction
 * service; main thread only.
 *
 * Chosen over holding requests back inside the device dispatcher because it needs no change
 * to the scheduler and is conservative: a tenant's running requests never exceed its limit.
 */
export class InFlightGate {
  private readonly tenants = new Map<string, TenantSlots>();

  /** `limits`: tenant id → max in flight (0 or absent = unlimited). */
  constructor(limits: Iterable<readonly [string, number]>) {
    for (const [tenant, limit] of limits) {
      if (!Number.isInteger(limit) || limit < 0) {
        throw new RangeError(`max in flight of tenant '${tenant}' must be a non-negative integer`);
      }
      if (limit > 0) this.tenants.set(tenant, { limit, used: 0, waiters: [] });
    }
  }

  /**
   * New limits (a config reload), same shape as the constructor's: requests holding slots
   * keep them; waiters get slots a raised limit frees, at once; a tenant whose limit became
   * 0 (or is absent) is unlimited from now on and all its waiters go ahead.
   */
  setLimits(limits: Iterable<readonly [string, number]>): void {
    const next = new Map(limits);
    for (const [tenant, limit] of next) {
      if (!Number.isInteger(limit) || limit < 0) {
        throw new RangeError(`max in flight of tenant '${tenant}' must be a non-negative integer`);
      }
    }
    for (const [tenant, s] of this.tenants) {
      const limit = next.get(tenant) ?? 0;
      s.limit = limit === 0 ? Number.POSITIVE_INFINITY : limit;
      if (limit === 0) this.tenants.delete(tenant);
      while (s.used < s.limit && s.waiters.length > 0) {
        const w = s.waiters.shift() as Waiter;
        s.used++;
        w.cleanup();
        w.grant(this.releaser(s));
      }
    }
    for (const [tenant, limit] of next) {
      if (limit > 0 && !this.tenants.has(tenant)) this.tenants.set(tenant, { limit, used: 0, waiters: [] });
    }
  }

  /** A slot now, or undefined when the tenant is at its limit (then `enter` waits for one). */
  tryEnter(tenant: string | undefined): ReleaseSlot | undefined {
    const s = tenant === undefined ? undefined : this.tenants.get(tenant);
    if (s === undefined) return NOOP;
    if (s.used >= s.limit || s.waiters.length > 0) return undefined;
    s.used++;
    return this.releaser(s);
  }

  /**
   * Resolves with a slot once the tenant has one free. Rejects with CANCELLED when `signal`
   * aborts and DEADLINE_EXCEEDED when `deadline` (epoch ms) passes while waiting.
   */
  enter(tenant: string | undefined, signal?: CancelSignal, deadline?: number): Promise<ReleaseSlot> {
    const now = this.tryEnter(tenant);
    if (now !== undefined) return Promise.resolve(now);
    const s = this.tenants.get(tenant as string) as TenantSlots;
    return new Promise<ReleaseSlot>((resolve, reject) => {
      if (signal?.aborted) return reject(new ServingError('CANCELLED', 'The request was cancelled'));
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => leave(new ServingError('CANCELLED', 'The request was cancelled'));
      const waiter: Waiter = {
        grant: resolve,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      const leave = (err: ServingError) => {
        const i = s.waiters.indexOf(waiter);
        if (i < 0) return;
        s.waiters.splice(i, 1);
        waiter.cleanup();
        reject(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined) {
        timer = setTimeout(
          () => leave(new ServingError('DEADLINE_EXCEEDED', 'Deadline exceeded while queued')),
          safeDelay(deadline - Date.now()),
        );
      }
      s.waiters.push(waiter);
    });
  }

  /** Requests of `tenant` holding a slot now. */
  inFlight(tenant: string): number {
    return this.tenants.get(tenant)?.used ?? 0;
  }

  /** Requests of `tenant` waiting for a slot now. */
  waiting(tenant: string): number {
    return this.tenants.get(tenant)?.waiters.length ?? 0;
  }

  private releaser(s: TenantSlots): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = s.waiters.shift();
      if (next === undefined) {
        s.used--;
        return;
      }
      // The slot passes straight to the next waiter, so nobody can overtake it.
      next.cleanup();
      next.grant(this.releaser(s));
    };
  }
}
