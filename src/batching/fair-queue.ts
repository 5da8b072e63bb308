/** What the fair queue needs to know of an item: its cost in rows, its tenant, its age. */
export interface FairItem {
  readonly rows: number;
  /** `undefined` is the default tenant (tenancy off). */
  readonly tenant: string | undefined;
  /** Clock time it was queued, ms. */
  readonly enqueuedAt: number;
}

interface SubQueue<T> {
  readonly tenant: string | undefined;
  items: T[];
  head: number;
  /** Rows this tenant may still take in the current round (deficit round robin). */
  deficit: number;
  active: boolean;
}

/**
 * One model's waiting requests: a FIFO sub-queue per tenant, served by deficit round robin
 * by rows with per-tenant weights, so a tenant sending many times its share still lets the
 * others into every batch. With one tenant it is plain FIFO.
 *
 * Owned and called only by its model queue (single-threaded, not re-entrant).
 */
export class FairQueue<T extends FairItem> {
  readonly #subs = new Map<string | undefined, SubQueue<T>>();
  /** Sub-queues with items, in round-robin order; `#cursor` is the next to visit. */
  #active: SubQueue<T>[] = [];
  #cursor = 0;
  readonly #weights: Map<string | undefined, number>;
  #size = 0;
  #rows = 0;

  /** `weights` (tenant → share, default 1) may be shared with other queues. */
  constructor(weights: Map<string | undefined, number> = new Map()) {
    this.#weights = weights;
  }

  /** Items queued. */
  get size(): number {
    return this.#size;
  }

  /** Rows queued. */
  get rows(): number {
    return this.#rows;
  }

  /** Sets a tenant's share (default 1); throws RangeError unless positive and finite. */
  setTenantWeight(tenant: string | undefined, weight: number): void {
    if (!(weight > 0) || !Number.isFinite(weight))
      throw new RangeError('tenant weight must be a positive number');
    this.#weights.set(tenant, weight);
  }

  push(item: T): void {
    let sub = this.#subs.get(item.tenant);
    if (sub === undefined) {
      sub = { tenant: item.tenant, items: [], head: 0, deficit: 0, active: false };
      this.#subs.set(item.tenant, sub);
    }
    sub.items.push(item);
    if (!sub.active) {
      sub.active = true;
      // New tenants join just before the cursor: they wait one full round, like a new flow in DRR.
      this.#active.splice(this.#cursor, 0, sub);
      this.#cursor = (this.#cursor + 1) % this.#active.length;
    }
    this.#size++;
    this.#rows += item.rows;
  }

  /** Removes a queued item (deadline, cancellation); false when it is not queued. */
  remove(item: T): boolean {
    const sub = this.#subs.get(item.tenant);
    if (sub === undefined) return false;
    const at = sub.items.indexOf(item, sub.head);
    if (at < 0) return false;
    sub.items.splice(at, 1);
    this.#taken(sub, item);
    return true;
  }

  /** The longest-waiting item across tenants, undefined when empty. */
  oldest(): T | undefined {
    let oldest: T | undefined;
    for (const sub of this.#active) {
      const head = sub.items[sub.head];
      if (oldest === undefined || head.enqueuedAt < oldest.enqueuedAt) oldest = head;
    }
    return oldest;
  }

  /**
   * The tenant whose sub-queue `take` visits first, i.e. the tenant the next batch is formed
   * for first; undefined when empty (or when that tenant is the default tenant).
   */
  nextTenant(): string | undefined {
    if (this.#active.length === 0) return undefined;
    return this.#active[this.#cursor < this.#active.length ? this.#cursor : 0].tenant;
  }

  /** Every queued item, tenant by tenant (for draining). */
  *items(): IterableIterator<T> {
    for (const sub of this.#active) for (let i = sub.head; i < sub.items.length; i++) yield sub.items[i];
  }

  /**
   * Takes items for one batch of at most `capacity` rows by deficit round robin. An item is
   * taken only when `accept(item)` is true (it is asked just before taking; the caller uses
   * it to keep shapes compatible); a tenant whose head does not fit or is refused sits out
   * this batch with its deficit kept. Returns items in the order taken.
   */
  take(capacity: number, accept: (item: T) => boolean): T[] {
    const batch: T[] = [];
    let room = capacity;
    while (room > 0 && this.#active.length > 0) {
      let eligible = 0;
      let took = false;
      for (let visits = this.#active.length; visits > 0 && room > 0 && this.#active.length > 0; visits--) {
        if (this.#cursor >= this.#active.length) this.#cursor = 0;
        const sub = this.#active[this.#cursor];
        let head: T | undefined = sub.items[sub.head];
        if (head.rows > room || !accept(head)) {
          this.#cursor++;
          continue;
        }
        eligible++;
        sub.deficit += this.#weight(sub);
        while (head !== undefined && head.rows <= sub.deficit && head.rows <= room && accept(head)) {
          sub.deficit -= head.rows;
          room -= head.rows;
          batch.push(head);
          took = true;
          sub.items[sub.head++] = undefined as unknown as T;
          this.#taken(sub, head);
          head = sub.active ? sub.items[sub.head] : undefined;
        }
        // #taken removed an emptied sub-queue from the list, which already moved the next one under the cursor.
        if (sub.active) this.#cursor++;
      }
      if (eligible === 0) break;
      if (!took) this.#skipRounds(room, accept);
    }
    return batch;
  }

  #weight(sub: SubQueue<T>): number {
    return this.#weights.get(sub.tenant) ?? 1;
  }

  /** Adds the deficit of the rounds in which nobody could take anything, in one step. */
  #skipRounds(room: number, accept: (item: T) => boolean): void {
    let rounds = Number.POSITIVE_INFINITY;
    for (const sub of this.#active) {
      const head = sub.items[sub.head];
      if (head.rows > room || !accept(head)) continue;
      rounds = Math.min(rounds, Math.ceil((head.rows - sub.deficit) / this.#weight(sub)) - 1);
    }
    if (!Number.isFinite(rounds) || rounds <= 0) return;
    for (const sub of this.#active) sub.deficit += rounds * this.#weight(sub);
  }

  #taken(sub: SubQueue<T>, item: T): void {
    this.#size--;
    this.#rows -= item.rows;
    if (sub.head > 64 && sub.head * 2 > sub.items.length) {
      sub.items = sub.items.slice(sub.head);
      sub.head = 0;
    }
    if (sub.head < sub.items.length) return;
    sub.items = [];
    sub.head = 0;
    sub.deficit = 0;
    sub.active = false;
    const at = this.#active.indexOf(sub);
    this.#active.splice(at, 1);
    if (at < this.#cursor) this.#cursor--;
    this.#subs.delete(sub.tenant);
  }
}
