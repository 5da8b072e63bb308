import { type Clock, systemClock } from '../../core/clock.js';
import { ServingError } from '../../core/errors.js';
import type { TenantConfig } from '../config/tenant-config.js';
import { TokenBucket } from './token-bucket.js';

/**
 * One admitted request. It is `queued` from `admit` until `started()` and `in flight` from
 * then until `done()`. `done()` must be called exactly once whatever happens (success, error,
 * cancellation, before or after `started()`); extra calls are ignored.
 */
export interface AdmissionTicket {
  readonly tenant: string | undefined;
  /** Called by the dispatcher when the request's batch starts running. */
  started(): void;
  done(): void;
}

export interface AdmissionOptions {
  /** Server-wide bound on queued requests of all tenants (0 = none); over it → UNAVAILABLE. */
  readonly maxQueuedTotal?: number;
  readonly clock?: Pick<Clock, 'now'>;
}

/** Counters of one tenant (`''` stands for requests without a tenant). */
export interface TenantUsage {
  readonly tenant: string;
  readonly queued: number;
  readonly inFlight: number;
  /** Rate tokens left now; undefined when the tenant has no rate quota. */
  readonly tokens: number | undefined;
}

interface TenantState {
  readonly id: string;
  maxQueued: number;
  bucket: TokenBucket | undefined;
  queued: number;
  inFlight: number;
}

/**
 * Proof that one request passed its tenant's admission on arrival (`AdmissionController.arrive`),
 * before its body was read: its tenant's queue quota had room and its rate token is taken.
 * The front end hands it to the core with that same request (`PredictCall.arrival`), whose
 * `admit` then takes no second token. Single use: `admit` redeems it once and refuses a
 * second redemption. A request that never reaches `admit` (its body or model is refused
 * first) has still spent its token: the token pays for the arrival.
 */
export interface ArrivalPass {
  readonly tenant: string | undefined;
}

/**
 * Per-tenant admission control, consulted by the inference core before a request is queued.
 * Owned by the main thread.
 *
 * `admit(tenant)` checks, in this order, and throws ServingError:
 * - draining → UNAVAILABLE `Server is draining`;
 * - server-wide queue bound reached → UNAVAILABLE `Server is overloaded`;
 * - tenant's `max_queued` reached → RESOURCE_EXHAUSTED (no rate token is spent);
 * - tenant's rate exceeded → RESOURCE_EXHAUSTED with `retryAfterSeconds` (REST Retry-After).
 *
 * Front ends that can refuse a request before reading its body (REST) call `arrive(tenant)`
 * first: the tenant's own checks (`max_queued`, then the rate) at once, so a throttled request
 * costs no body read or parse. `admit(tenant, pass)` then checks draining and the queue bounds
 * again (they may have changed while the body was read) but takes no second token; when it
 * refuses there, it gives the pass's token back, as `admit` alone spends none for those refusals.
 *
 * `max_in_flight` is not checked here: the prediction service's InFlightGate (in-flight-gate.ts)
 * holds a tenant's requests over it back, still queued (counted against `max_queued`).
 */
export class AdmissionController {
  private readonly tenants = new Map<string, TenantState>();
  private readonly maxQueuedTotal: number;
  private queuedTotal = 0;
  private drainingFlag = false;
  /** Passes from `arrive` not yet redeemed by `admit` (weak: an unredeemed one is just dropped). */
  private readonly issued = new WeakSet<Pass>();

  private readonly clock: Pick<Clock, 'now'>;

  constructor(tenants: readonly Pick<TenantConfig, 'id' | 'quotas'>[], options: AdmissionOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.maxQueuedTotal = options.maxQueuedTotal ?? 0;
    if (!Number.isInteger(this.maxQueuedTotal) || this.maxQueuedTotal < 0) {
      throw new RangeError('options.maxQueuedTotal must be a non-negative integer');
    }
    this.tenants.set('', newState('', 0, undefined));
    for (const t of tenants) {
      const q = t.quotas;
      const bucket =
        q.requestsPerSecond > 0 ? new TokenBucket(q.requestsPerSecond, q.burst, clock) : undefined;
      this.tenants.set(t.id, newState(t.id, q.maxQueued, bucket));
    }
  }

  /**
   * New quotas (a config reload). Counters of requests already admitted carry over; a rate
   * bucket is replaced (full) only when its rate or burst changed. A tenant no longer listed
   * is forgotten: its admitted requests finish, new ones are an INTERNAL wiring error (the
   * authenticator no longer knows its keys).
   */
  setTenants(tenants: readonly Pick<TenantConfig, 'id' | 'quotas'>[]): void {
    const ids = new Set(tenants.map((t) => t.id));
    for (const id of [...this.tenants.keys()]) if (id !== '' && !ids.has(id)) this.tenants.delete(id);
    for (const t of tenants) {
      const q = t.quotas;
      const s = this.tenants.get(t.id) ?? newState(t.id, 0, undefined);
      this.tenants.set(t.id, s);
      s.maxQueued = q.maxQueued;
      const same =
        s.bucket !== undefined &&
        s.bucket.ratePerSecond === q.requestsPerSecond &&
        s.bucket.burst === q.burst;
      if (!same) {
        s.bucket =
          q.requestsPerSecond > 0 ? new TokenBucket(q.requestsPerSecond, q.burst, this.clock) : undefined;
      }
    }
  }

  /** Once set, every new request is refused with UNAVAILABLE; admitted ones finish. */
  get draining(): boolean {
    return this.drainingFlag;
  }

  set draining(value: boolean) {
    this.drainingFlag = value;
  }

  /**
   * Admits one request of `tenant` (undefined: tenancy off or an admin) or throws. With a
   * `pass` from `arrive` for the same request, takes no rate token. Throws INTERNAL for a
   * tenant id that is not configured, or a pass of another tenant or already redeemed
   * (wiring bugs, not client errors).
   */
  admit(tenant: string | undefined, pass?: ArrivalPass): AdmissionTicket {
    const s = this.stateOf(tenant);
    if (pass === undefined) {
      if (this.drainingFlag) throw new ServingError('UNAVAILABLE', 'Server is draining');
      this.checkQueues(s);
      this.takeToken(s);
    } else {
      const granted = this.redeem(pass, tenant);
      try {
        if (this.drainingFlag) throw new ServingError('UNAVAILABLE', 'Server is draining');
        this.checkQueues(s);
      } catch (err) {
        granted.bucket?.giveBack();
        throw err;
      }
    }
    s.queued++;
    this.queuedTotal++;
    return this.ticket(s, tenant);
  }

  /**
   * Admission on arrival, before the request's body is read: the tenant's `max_queued`, then
   * its rate (the same checks and errors as `admit`). Returns the pass to hand to `admit` with
   * the same request. Draining and the server-wide bound are left to `admit`. Throws
   * INTERNAL for a tenant id that is not configured.
   */
  arrive(tenant: string | undefined): ArrivalPass {
    const s = this.stateOf(tenant);
    this.checkTenantQueue(s);
    this.takeToken(s);
    const pass = new Pass(tenant, s.bucket);
    this.issued.add(pass);
    return pass;
  }

  /** Current counters of one tenant, for stats and tests. */
  usage(tenant: string | undefined): TenantUsage | undefined {
    const s = this.tenants.get(tenant ?? '');
    return s === undefined ? undefined : usageOf(s);
  }

  /** Counters of every tenant (and `''`), for status and metrics. */
  snapshot(): TenantUsage[] {
    return [...this.tenants.values()].map(usageOf);
  }

  private stateOf(tenant: string | undefined): TenantState {
    const s = this.tenants.get(tenant ?? '');
    if (s === undefined) throw new ServingError('INTERNAL', 'Internal error: request of an unknown tenant');
    return s;
  }

  /** The server-wide bound, then the tenant's `max_queued`. */
  private checkQueues(s: TenantState): void {
    if (this.maxQueuedTotal > 0 && this.queuedTotal >= this.maxQueuedTotal) {
      throw new ServingError('UNAVAILABLE', 'Server is overloaded; retry later');
    }
    this.checkTenantQueue(s);
  }

  private checkTenantQueue(s: TenantState): void {
    if (s.maxQueued > 0 && s.queued >= s.maxQueued) {
      throw new ServingError(
        'RESOURCE_EXHAUSTED',
        `Tenant queue quota exceeded: ${s.queued} of ${s.maxQueued} requests queued`,
      );
    }
  }

  /** Takes the tenant's rate token (none when it has no rate quota). */
  private takeToken(s: TenantState): void {
    if (s.bucket === undefined) return;
    const r = s.bucket.take();
    if (!r.ok) {
      throw new ServingError(
        'RESOURCE_EXHAUSTED',
        `Tenant rate quota exceeded: ${s.bucket.ratePerSecond} requests/s`,
        {
          retryAfterSeconds: r.retryAfterSeconds,
        },
      );
    }
  }

  /** Marks a pass used; only passes this controller issued, once, for the same tenant. */
  private redeem(pass: ArrivalPass, tenant: string | undefined): Pass {
    if (!(pass instanceof Pass) || !this.issued.delete(pass) || pass.tenant !== tenant) {
      throw new ServingError('INTERNAL', 'Internal error: invalid admission pass');
    }
    return pass;
  }

  private ticket(s: TenantState, tenant: string | undefined): AdmissionTicket {
    let state: 'queued' | 'running' | 'done' = 'queued';
    return {
      tenant,
      started: () => {
        if (state !== 'queued') return;
        state = 'running';
        s.queued--;
        this.queuedTotal--;
        s.inFlight++;
      },
      done: () => {
        if (state === 'queued') {
          s.queued--;
          this.queuedTotal--;
        } else if (state === 'running') {
          s.inFlight--;
        }
        state = 'done';
      },
    };
  }
}

class Pass implements ArrivalPass {
  constructor(
    readonly tenant: string | undefined,
    readonly bucket: TokenBucket | undefined,
  ) {}
}

function newState(id: string, maxQueued: number, bucket: TokenBucket | undefined): TenantState {
  return { id, maxQueued, bucket, queued: 0, inFlight: 0 };
}

function usageOf(s: TenantState): TenantUsage {
  return { tenant: s.id, queued: s.queued, inFlight: s.inFlight, tokens: s.bucket?.available() };
}
