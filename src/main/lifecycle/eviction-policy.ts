/** One loaded on-demand version that may be unloaded to make room. */
export interface EvictionCandidate {
  /** The loader's key (one version on one device). */
  readonly key: string;
  readonly device: string;
  readonly tenant: string | undefined;
  /** Bytes it is charged now (measured when known, else estimated). */
  readonly bytes: number;
  /** When a request last used it (any clock, compared only with each other). */
  readonly lastUsed: number;
}

/** One budget as it stands before the new load: 0 budget = unlimited. */
export interface BudgetState {
  readonly budgetBytes: number;
  readonly usedBytes: number;
}

/** What the new load needs and the budgets it must fit. */
export interface EvictionRequest {
  readonly device: string;
  readonly tenant: string | undefined;
  readonly bytes: number;
  readonly deviceBudget: BudgetState;
  /** The owning tenant's budget; undefined for a shared model. */
  readonly tenantBudget: BudgetState | undefined;
}

/** Keys to unload, least recently used first; or which budget cannot fit even after evicting all. */
export type EvictionPlan =
  | { readonly fits: true; readonly evict: readonly string[] }
  | { readonly fits: false; readonly budget: 'device' | 'tenant' };

/**
 * Pure: which evictable versions to unload so `request.bytes` fits both its device's and its
 * tenant's budget. When the tenant budget overflows, that tenant's own versions go first
 * (least recently used first, on any device); then, if the device still overflows, the
 * device's versions of every tenant, least recently used first. `candidates` must already
 * exclude pinned versions and versions with requests queued or running. Nothing is planned
 * when the request cannot fit after evicting every candidate that helps: the caller then
 * fails the load with RESOURCE_EXHAUSTED naming `budget`.
 */
export function planEviction(
  request: EvictionRequest,
  candidates: readonly EvictionCandidate[],
): EvictionPlan {
  const lru = [...candidates].sort((a, b) => a.lastUsed - b.lastUsed || compare(a.key, b.key));
  const evict: EvictionCandidate[] = [];
  let deviceUsed = request.deviceBudget.usedBytes;
  let tenantUsed = request.tenantBudget?.usedBytes ?? 0;
  const take = (c: EvictionCandidate) => {
    evict.push(c);
    if (c.device === request.device) deviceUsed -= c.bytes;
    if (request.tenant !== undefined && c.tenant === request.tenant) tenantUsed -= c.bytes;
  };
  const tenantBudget = request.tenantBudget?.budgetBytes ?? 0;
  const tenantOver = () => tenantBudget > 0 && tenantUsed + request.bytes > tenantBudget;
  const deviceBudget = request.deviceBudget.budgetBytes;
  const deviceOver = () => deviceBudget > 0 && deviceUsed + request.bytes > deviceBudget;
  if (request.tenant !== undefined) {
    for (const c of lru) {
      if (!tenantOver()) break;
      if (c.tenant === request.tenant) take(c);
    }
    if (tenantOver()) return { fits: false, budget: 'tenant' };
  }
  for (const c of lru) {
    if (!deviceOver()) break;
    if (c.device === request.device && !evict.includes(c)) take(c);
  }
  if (deviceOver()) return { fits: false, budget: 'device' };
  return { fits: true, evict: evict.map((c) => c.key) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
