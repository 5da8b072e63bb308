import type { BatchCandidate, SelectionPolicy } from './selection-policy.js';

type Tenant = string | undefined;

export interface TenantFairPolicyOptions {
  /** A tenant's weight (positive; the default tenant too). Read at every round, so changes apply. */
  readonly weightOf: (tenant: Tenant) => number;
  /** Rows a tenant's deficit grows by per round, times its weight; default 1. */
  readonly quantumRows?: number;
}

interface TenantState {
  /** Rows the tenant may still run in its turn; negative after a batch larger than its credit. */
  deficit: number;
  /** Registration order of the tenant's queue picked last (round robin among its models). */
  lastOrder: number;
}

/**
 * Weighted fair selection across tenants on one device: deficit round robin per tenant over
 * the ready model queues, charged by the rows each batch actually ran.
 *
 * A ready queue belongs to its `headTenant`: the tenant its next batch is formed for first
 * (for a tenant's own model, that tenant; for a shared model, the tenant at the head of its
 * fair queue's round). Tenants with at least one ready queue take turns in a ring; each turn
 * adds `quantumRows × weight` to the tenant's deficit, and the tenant keeps the device while
 * its deficit is positive, picking among its own ready queues round robin. After each batch,
 * every tenant whose rows ran in it is charged those rows (read from `rowsRunByTenant`), so
 * a batch may overdraw a turn; the debt is carried into the next turn. A tenant with no ready
 * queue leaves the ring and keeps its debt but not its credit (no banking while idle). So a
 * tenant with three models gets the same share of rows as a tenant with one, weights apart.
 *
 * It is work conserving: when only in-debt tenants are ready, whole rounds are credited at
 * once rather than leaving the device idle. The dispatcher fills a slot freed by a batch only
 * after that batch's queue has counted it done, so a model limited to one running batch
 * (numBatchThreads 1) competes for the slot its own batch freed and weights hold even on a
 * one-slot device.
 *
 * One instance per device (it keeps state); called only by its DeviceDispatcher.
 */
export class TenantFairPolicy implements SelectionPolicy {
  readonly #weightOf: (tenant: Tenant) => number;
  readonly #quantum: number;
  readonly #states = new Map<Tenant, TenantState>();
  /** Tenants with a ready queue, in turn order; `#cursor` is the one whose turn it is. */
  #ring: Tenant[] = [];
  #cursor = 0;
  /** The tenant at the cursor has been given its quantum for the current turn. */
  #turnOpen = false;
  /** The last pick and its tenants' rows before it ran, charged at the next decision. */
  #pending: { candidate: BatchCandidate; before: Map<Tenant, number> } | undefined;

  constructor(options: TenantFairPolicyOptions) {
    const quantum = options.quantumRows ?? 1;
    if (!(quantum > 0) || !Number.isFinite(quantum))
      throw new RangeError('options.quantumRows must be a positive number');
    this.#weightOf = options.weightOf;
    this.#quantum = quantum;
  }

  select<C extends BatchCandidate>(ready: readonly C[]): C | undefined {
    this.#settle();
    const byTenant = new Map<Tenant, C[]>();
    for (const c of ready) {
      const list = byTenant.get(c.headTenant);
      if (list === undefined) byTenant.set(c.headTenant, [c]);
      else list.push(c);
    }
    this.#syncRing(byTenant);
    if (this.#ring.length === 0) return undefined;
    const tenant = this.#nextTenant();
    const state = this.#state(tenant);
    const own = byTenant.get(tenant)!;
    const next = own.find((c) => c.order > state.lastOrder) ?? own[0];
    state.lastOrder = next.order;
    this.#pending = { candidate: next, before: new Map(next.rowsRunByTenant) };
    return next;
  }

  /** Current deficit of a tenant in rows (for tests and diagnostics); 0 for unknown tenants. */
  deficitOf(tenant: Tenant): number {
    return this.#states.get(tenant)?.deficit ?? 0;
  }

  /** Charges every tenant the rows it ran in the batch picked last. */
  #settle(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    for (const [tenant, rows] of pending.candidate.rowsRunByTenant) {
      const ran = rows - (pending.before.get(tenant) ?? 0);
      if (ran > 0) this.#state(tenant).deficit -= ran;
    }
  }

  /** Drops tenants without a ready queue from the ring; adds new ones just before the cursor. */
  #syncRing(byTenant: ReadonlyMap<Tenant, unknown>): void {
    for (let i = this.#ring.length - 1; i >= 0; i--) {
      const tenant = this.#ring[i];
      if (byTenant.has(tenant)) continue;
      const state = this.#state(tenant);
      state.deficit = Math.min(state.deficit, 0);
      this.#ring.splice(i, 1);
      if (i < this.#cursor) this.#cursor--;
      else if (i === this.#cursor) this.#turnOpen = false;
    }
    if (this.#cursor >= this.#ring.length) this.#cursor = 0;
    for (const tenant of byTenant.keys()) {
      if (this.#ring.includes(tenant)) continue;
      // A newly ready tenant waits for the others' current round, like a new flow in DRR.
      this.#ring.splice(this.#cursor, 0, tenant);
      if (this.#ring.length > 1) this.#cursor++;
    }
  }

  /** The tenant whose turn it is, opening turns (and skipping empty rounds) as needed. */
  #nextTenant(): Tenant {
    let fruitless = 0;
    for (;;) {
      const tenant = this.#ring[this.#cursor];
      const state = this.#state(tenant);
      if (!this.#turnOpen) {
        state.deficit += this.#quantum * this.#weight(tenant);
        this.#turnOpen = true;
      }
      if (state.deficit > 0) return tenant;
      this.#turnOpen = false;
      this.#cursor = (this.#cursor + 1) % this.#ring.length;
      if (++fruitless >= this.#ring.length) {
        this.#skipRounds();
        fruitless = 0;
      }
    }
  }

  /** Adds, in one step, the quanta of the whole rounds in which no tenant could run. */
  #skipRounds(): void {
    let rounds = Number.POSITIVE_INFINITY;
    for (const tenant of this.#ring) {
      const grant = this.#quantum * this.#weight(tenant);
      rounds = Math.min(rounds, Math.floor(-this.#state(tenant).deficit / grant));
    }
    if (!(rounds > 0) || !Number.isFinite(rounds)) return;
    for (const tenant of this.#ring)
      this.#state(tenant).deficit += rounds * this.#quantum * this.#weight(tenant);
  }

  #weight(tenant: Tenant): number {
    const w = this.#weightOf(tenant);
    return w > 0 && Number.isFinite(w) ? w : 1;
  }

  #state(tenant: Tenant): TenantState {
    let state = this.#states.get(tenant);
    if (state === undefined) {
      state = { deficit: 0, lastOrder: -1 };
      this.#states.set(tenant, state);
    }
    return state;
  }
}
