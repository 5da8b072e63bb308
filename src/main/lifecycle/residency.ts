import { ServingError } from '../../core/errors.js';
import type { MemoryBudget, ReservationInfo, ReserveRequest } from '../tenancy/memory-budget.js';
import { type EvictionCandidate, planEviction } from './eviction-policy.js';
import type { LifecycleLogger } from './logger.js';

/** What residency needs from the manager: the evictable versions, and a way to evict one. */
export interface EvictionTarget {
  evictable(): readonly { model: string; version: number; key: string; lastUsed: number }[];
  /** Resolves once unloaded; undefined when the version is no longer evictable. */
  evict(model: string, version: number): Promise<void> | undefined;
}

/**
 * Makes room for loads under the memory budgets (issue 12). The loader reserves through
 * `reserve()` instead of the budget directly: when the reservation does not fit, the
 * least-recently-used evictable on-demand versions are unloaded (planEviction decides which)
 * and the reservation is tried again. Reservations are serialized, so two loads never count
 * the same freed bytes. A load that cannot fit even after evicting every candidate fails with
 * a permanent RESOURCE_EXHAUSTED naming the budget (device or tenant).
 */
export class Residency {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly budget: MemoryBudget,
    private readonly target: EvictionTarget,
    private readonly logger?: LifecycleLogger,
  ) {}

  reserve(request: ReserveRequest): Promise<ReservationInfo> {
    const run = this.chain.then(async () => (await this.reserveNow(request))!);
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * After a load's measurement replaced its estimate: when the measured bytes pushed the
   * device or tenant over its budget, evicts least-recently-used idle on-demand versions until
   * both fit again (nothing else can be done: the version is loaded). Serialized with reserve().
   */
  settle(device: string, tenant: string | undefined): Promise<void> {
    const run = this.chain.then(async () => {
      try {
        await this.reserveNow({ key: '', device, tenant, bytes: 0 }, false);
      } catch {
        // Pinned or busy versions alone exceed the budget: the next load will report it.
      }
    });
    this.chain = run;
    return run;
  }

  /** Reserves (or with `record` false only makes room for) `request.bytes`. */
  private async reserveNow(request: ReserveRequest, record = true): Promise<ReservationInfo | undefined> {
    let first: ServingError | undefined;
    for (let round = 0; ; round++) {
      try {
        if (record) return this.budget.reserve(request);
        if (this.fits(request)) return undefined;
      } catch (err) {
        if (!(err instanceof ServingError) || err.code !== 'RESOURCE_EXHAUSTED') throw err;
        first ??= err;
      }
      const byKey = new Map(this.target.evictable().map((v) => [v.key, v]));
      const candidates: EvictionCandidate[] = [];
      for (const v of byKey.values()) {
        const r = this.budget.get(v.key);
        if (r !== undefined)
          candidates.push({
            key: v.key,
            device: r.device,
            tenant: r.tenant,
            bytes: r.chargedBytes,
            lastUsed: v.lastUsed,
          });
      }
      const snapshot = this.budget.snapshot();
      const device = snapshot.devices.find((d) => d.name === request.device);
      const tenant =
        request.tenant === undefined ? undefined : snapshot.tenants.find((t) => t.name === request.tenant);
      const plan = planEviction(
        {
          device: request.device,
          tenant: request.tenant,
          bytes: request.bytes,
          deviceBudget: { budgetBytes: device?.budgetBytes ?? 0, usedBytes: device?.usedBytes ?? 0 },
          tenantBudget: tenant && { budgetBytes: tenant.budgetBytes, usedBytes: tenant.usedBytes },
        },
        candidates,
      );
      // Evictions that did not free enough (a version taken meanwhile) are retried a few times.
      if (!plan.fits || plan.evict.length === 0 || round >= 3) {
        const what =
          !plan.fits && plan.budget === 'tenant'
            ? `tenant '${request.tenant}'`
            : `device '${request.device}'`;
        const used = !plan.fits && plan.budget === 'tenant' ? tenant : device;
        throw new ServingError(
          'RESOURCE_EXHAUSTED',
          `Memory budget of ${what} exceeded even after evicting every idle on-demand model: budget ${used?.budgetBytes ?? 0} bytes, in use ${used?.usedBytes ?? 0} bytes, requested ${request.bytes} bytes`,
          { permanent: true, cause: first },
        );
      }
      this.logger?.info(
        { device: request.device, tenant: request.tenant, bytes: request.bytes, evict: plan.evict },
        'evicting least recently used on-demand models to make room',
      );
      await Promise.all(
        plan.evict.map((key) => {
          const v = byKey.get(key)!;
          return this.target.evict(v.model, v.version) ?? Promise.resolve();
        }),
      );
    }
  }

  private fits(request: ReserveRequest): boolean {
    const s = this.budget.snapshot();
    const over = (u: { budgetBytes: number; usedBytes: number } | undefined) =>
      u !== undefined && u.budgetBytes > 0 && u.usedBytes + request.bytes > u.budgetBytes;
    if (over(s.devices.find((d) => d.name === request.device))) return false;
    return request.tenant === undefined || !over(s.tenants.find((t) => t.name === request.tenant));
  }
}
