import { ServingError } from '../../core/errors.js';

/** What a reservation asks for: `key` identifies one model version on one device (unique). */
export interface ReserveRequest {
  readonly device: string;
  /** Owning tenant; undefined for a shared model (only the device budget applies). */
  readonly tenant: string | undefined;
  /** Estimated bytes (e.g. `estimateModelBytes` of the version directory). */
  readonly bytes: number;
  readonly key: string;
}

/** One reservation as reported by `snapshot()`. */
export interface ReservationInfo {
  readonly key: string;
  readonly device: string;
  readonly tenant: string | undefined;
  /** Estimate made before loading. */
  readonly estimatedBytes: number;
  /** Measured after loading; undefined until `adjust` is called. */
  readonly measuredBytes: number | undefined;
  /** What counts against the budgets: measured when known, else estimated. */
  readonly chargedBytes: number;
}

export interface BudgetUsage {
  readonly name: string;
  /** 0 = unlimited. */
  readonly budgetBytes: number;
  readonly usedBytes: number;
}

export interface MemorySnapshot {
  readonly devices: readonly BudgetUsage[];
  readonly tenants: readonly BudgetUsage[];
  readonly reservations: readonly ReservationInfo[];
}

export interface MemoryBudgetOptions {
  /** Device name → budget bytes (0 = unlimited); devices not listed are unlimited. */
  readonly devices: Readonly<Record<string, number>>;
  /** Tenant id → budget bytes (0 = unlimited); tenants not listed are unlimited. */
  readonly tenants?: Readonly<Record<string, number>>;
}

interface Entry {
  key: string;
  device: string;
  tenant: string | undefined;
  estimatedBytes: number;
  measuredBytes: number | undefined;
  /** Overrides the measurement in the budgets (see adjust). */
  chargedBytes?: number | undefined;
}

/**
 * Memory budgets per device and per tenant (TF Serving's resource tracker): the loader
 * reserves a version's estimated bytes before loading, corrects them with the measured bytes
 * after loading, and releases them after unloading (or after a failed load). Only the main
 * thread (the manager) calls it.
 *
 * A reservation that would exceed the device's or the tenant's budget throws a permanent
 * RESOURCE_EXHAUSTED (the harness does not retry it) and records nothing, so versions already serving are never disturbed;
 * the manager puts the error in that version's status. A measurement above the estimate is
 * recorded as is (the model is loaded already); later reservations see the real usage.
 */
export class MemoryBudget {
  private readonly deviceBudgets: ReadonlyMap<string, number>;
  private tenantBudgets: ReadonlyMap<string, number>;
  private readonly entries = new Map<string, Entry>();

  /** Budgets from the server config's devices and the resolved tenants' `max_memory_bytes`. */
  static fromConfig(
    devices: readonly { readonly name: string; readonly memoryBudgetBytes: number }[],
    tenants: readonly { readonly id: string; readonly quotas: { readonly maxMemoryBytes: number } }[],
  ): MemoryBudget {
    return new MemoryBudget({
      devices: Object.fromEntries(devices.map((d) => [d.name, d.memoryBudgetBytes])),
      tenants: Object.fromEntries(tenants.map((t) => [t.id, t.quotas.maxMemoryBytes])),
    });
  }

  constructor(options: MemoryBudgetOptions) {
    this.deviceBudgets = checkedBudgets(options.devices, 'devices');
    this.tenantBudgets = checkedBudgets(options.tenants ?? {}, 'tenants');
  }

  /**
   * New tenant budgets (a config reload): later reservations are checked against them;
   * memory already reserved stays, even above a lowered budget. Throws RangeError like the constructor.
   */
  setTenantBudgets(tenants: Readonly<Record<string, number>>): void {
    this.tenantBudgets = checkedBudgets(tenants, 'tenants');
  }

  /**
   * Reserves `bytes` for `key` or throws ServingError RESOURCE_EXHAUSTED naming the device or
   * tenant, its budget, the bytes in use and the bytes requested. Throws Error when `key` is
   * already reserved (release it first) or `bytes` is not a non-negative number.
   */
  reserve(request: ReserveRequest): ReservationInfo {
    const { device, tenant, bytes, key } = request;
    if (!(bytes >= 0) || !Number.isFinite(bytes))
      throw new RangeError('bytes must be a non-negative finite number');
    if (this.entries.has(key)) throw new Error(`Memory is already reserved for ${key}`);
    const deviceBudget = this.deviceBudgets.get(device) ?? 0;
    const deviceUsed = this.used((e) => e.device === device);
    if (deviceBudget > 0 && deviceUsed + bytes > deviceBudget) {
      throw exhausted(`device '${device}'`, deviceBudget, deviceUsed, bytes);
    }
    if (tenant !== undefined) {
      const tenantBudget = this.tenantBudgets.get(tenant) ?? 0;
      const tenantUsed = this.used((e) => e.tenant === tenant);
      if (tenantBudget > 0 && tenantUsed + bytes > tenantBudget) {
        throw exhausted(`tenant '${tenant}'`, tenantBudget, tenantUsed, bytes);
      }
    }
    const entry: Entry = { key, device, tenant, estimatedBytes: bytes, measuredBytes: undefined };
    this.entries.set(key, entry);
    return info(entry);
  }

  /**
   * Records the bytes measured after loading; they replace the estimate in the budgets, or
   * `chargedBytes` does when given (a measurement known to read low, e.g. an RSS delta).
   */
  adjust(key: string, measuredBytes: number, chargedBytes?: number): ReservationInfo {
    const entry = this.entries.get(key);
    if (entry === undefined) throw new Error(`No memory reservation for ${key}`);
    if (!(measuredBytes >= 0) || !Number.isFinite(measuredBytes)) {
      throw new RangeError('measuredBytes must be a non-negative finite number');
    }
    entry.measuredBytes = measuredBytes;
    entry.chargedBytes = chargedBytes === undefined ? undefined : Math.max(0, chargedBytes);
    return info(entry);
  }

  /** Frees a reservation; false when there was none (so release is safe to repeat). */
  release(key: string): boolean {
    return this.entries.delete(key);
  }

  get(key: string): ReservationInfo | undefined {
    const entry = this.entries.get(key);
    return entry === undefined ? undefined : info(entry);
  }

  /** Budgets, usage and every reservation, for status and stats. */
  snapshot(): MemorySnapshot {
    const entries = [...this.entries.values()];
    const devices = new Set([...this.deviceBudgets.keys(), ...entries.map((e) => e.device)]);
    const tenants = new Set([
      ...this.tenantBudgets.keys(),
      ...entries.flatMap((e) => (e.tenant === undefined ? [] : [e.tenant])),
    ]);
    return {
      devices: [...devices].map((name) => ({
        name,
        budgetBytes: this.deviceBudgets.get(name) ?? 0,
        usedBytes: this.used((e) => e.device === name),
      })),
      tenants: [...tenants].map((name) => ({
        name,
        budgetBytes: this.tenantBudgets.get(name) ?? 0,
        usedBytes: this.used((e) => e.tenant === name),
      })),
      reservations: entries.map(info),
    };
  }

  private used(match: (e: Entry) => boolean): number {
    let sum = 0;
    for (const e of this.entries.values()) if (match(e)) sum += charged(e);
    return sum;
  }
}

function charged(e: Entry): number {
  return e.chargedBytes ?? e.measuredBytes ?? e.estimatedBytes;
}

function info(e: Entry): ReservationInfo {
  return {
    key: e.key,
    device: e.device,
    tenant: e.tenant,
    estimatedBytes: e.estimatedBytes,
    measuredBytes: e.measuredBytes,
    chargedBytes: charged(e),
  };
}

function exhausted(what: string, budget: number, used: number, requested: number): ServingError {
  return new ServingError(
    'RESOURCE_EXHAUSTED',
    `Memory budget of ${what} exceeded: budget ${budget} bytes, in use ${used} bytes, requested ${requested} bytes`,
    // Retrying cannot help until something is unloaded, which a retry timer does not know.
    { permanent: true },
  );
}

function checkedBudgets(budgets: Readonly<Record<string, number>>, option: string): Map<string, number> {
  for (const [name, b] of Object.entries(budgets)) {
    if (!Number.isInteger(b) || b < 0)
      throw new RangeError(`options.${option}['${name}'] must be a non-negative integer`);
  }
  return new Map(Object.entries(budgets));
}
