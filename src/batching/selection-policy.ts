/** What a selection policy sees of a model queue that has a batch ready to start. */
export interface BatchCandidate {
  /** Scheduler key of the model version. */
  readonly key: string;
  readonly modelName: string;
  /** Registration order on its device (increasing, never reused). */
  readonly order: number;
  /** Requests (or chunks of split requests) waiting. */
  readonly pendingRequests: number;
  readonly pendingRows: number;
  /** Batches of this model executing now. */
  readonly runningBatches: number;
  /** Clock time the longest-waiting request was queued; undefined when none. */
  oldestEnqueuedAt(): number | undefined;
  /**
   * The tenant the queue's next batch is formed for first: the tenant at the head of its
   * fair queue's round (for a tenant's own model, that tenant). Undefined is the default tenant.
   */
  readonly headTenant: string | undefined;
  /**
   * Rows started on the device so far, per tenant (cumulative, never reset; requests that
   * expired before running are not counted). A live view: policies diff it across a pick.
   */
  readonly rowsRunByTenant: ReadonlyMap<string | undefined, number>;
}

/**
 * Chooses which model's batch a device runs next when a slot frees. Called by the device
 * dispatcher with the non-empty list of ready candidates in registration order; returns one
 * of them (undefined: run nothing now). One policy instance per device, so it may keep state.
 */
export interface SelectionPolicy {
  select<C extends BatchCandidate>(ready: readonly C[]): C | undefined;
}

/** TF Serving's shared batch scheduler: round-robin across model queues. */
export class RoundRobinPolicy implements SelectionPolicy {
  #last = -1;

  select<C extends BatchCandidate>(ready: readonly C[]): C | undefined {
    const next = ready.find((c) => c.order > this.#last) ?? ready[0];
    if (next !== undefined) this.#last = next.order;
    return next;
  }
}
