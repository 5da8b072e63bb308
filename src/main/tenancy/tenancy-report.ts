import { Gauge, type Registry } from 'prom-client';
import type { TenancyServices } from './tenancy-services.js';

/** Which model version a memory reservation key belongs to (the loader's map). */
export type ReservationOwner = (
  key: string,
) => { readonly model: string; readonly version: number } | undefined;

/** One tenant in the admin report. */
export interface TenantReport {
  readonly id: string;
  readonly weight: number;
  readonly quotas: {
    readonly requestsPerSecond: number;
    readonly burst: number;
    readonly maxQueued: number;
    readonly maxInFlight: number;
    readonly maxMemoryBytes: number;
  };
  readonly queued: number;
  readonly inFlight: number;
  /** Rate tokens left now (undefined without a rate quota). */
  readonly tokens: number | undefined;
  readonly memoryUsedBytes: number;
}

/** The admin-only tenancy report: quotas and usage of every tenant, memory of every device and version. */
export interface TenancyReport {
  readonly enabled: boolean;
  readonly tenants: readonly TenantReport[];
  readonly devices: readonly { name: string; budgetBytes: number; usedBytes: number }[];
  readonly models: readonly {
    model: string;
    version: number | undefined;
    device: string;
    tenant: string | undefined;
    estimatedBytes: number;
    /**
     * Measured after the load (tfjs backend bytes; onnxruntime the worker's RSS delta); null
     * when not measured (`memory_measurement: estimate`): never a copy of the estimate.
     */
    measuredBytes: number | null;
    /** What counts against the budgets: measured, or for onnxruntime max(measured, estimated). */
    chargedBytes: number;
  }[];
}

/** Builds the report (GET /admin/tenants). Cheap; computed on each call. */
export function tenancyReport(services: TenancyServices, owner: ReservationOwner): TenancyReport {
  const memory = services.budget.snapshot();
  const usedByTenant = new Map(memory.tenants.map((t) => [t.name, t.usedBytes]));
  return {
    enabled: services.enabled,
    tenants: services.tenancy.tenants.map((t) => {
      const usage = services.admission.usage(t.id);
      return {
        id: t.id,
        weight: t.weight,
        quotas: { ...t.quotas },
        queued: usage?.queued ?? 0,
        inFlight: usage?.inFlight ?? 0,
        tokens: usage?.tokens,
        memoryUsedBytes: usedByTenant.get(t.id) ?? 0,
      };
    }),
    devices: memory.devices.map((d) => ({ ...d })),
    models: memory.reservations.map((r) => {
      const o = owner(r.key);
      return {
        model: o?.model ?? r.key,
        version: o?.version,
        device: r.device,
        tenant: r.tenant,
        estimatedBytes: r.estimatedBytes,
        measuredBytes: r.measuredBytes ?? null,
        chargedBytes: r.chargedBytes,
      };
    }),
  };
}

/**
 * Prometheus gauges for tenancy, read on scrape: `tensorserve_model_memory_bytes{model,version,
 * device,tenant,kind=estimated|measured}`, `tensorserve_memory_budget_bytes{scope,name}` and
 * `tensorserve_memory_used_bytes{scope,name}` (scope `device` | `tenant`), and
 * `tensorserve_tenant_queued_requests{tenant}` / `tensorserve_tenant_in_flight_requests{tenant}`.
 * Label cardinality is bounded by the configured tenants, devices and loaded versions.
 */
export function registerTenancyMetrics(
  registry: Registry,
  services: TenancyServices,
  owner: ReservationOwner,
): void {
  new Gauge({
    name: 'tensorserve_model_memory_bytes',
    help: 'Memory of a loaded model version: estimated before loading and measured after',
    labelNames: ['model', 'version', 'device', 'tenant', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of services.budget.snapshot().reservations) {
        const o = owner(r.key);
        const base = {
          model: o?.model ?? r.key,
          version: String(o?.version ?? ''),
          device: r.device,
          tenant: r.tenant ?? '',
        };
        this.set({ ...base, kind: 'estimated' }, r.estimatedBytes);
        if (r.measuredBytes !== undefined) this.set({ ...base, kind: 'measured' }, r.measuredBytes);
      }
    },
  });
  const budgetGauge = (name: string, help: string, pick: 'budgetBytes' | 'usedBytes') =>
    new Gauge({
      name,
      help,
      labelNames: ['scope', 'name'],
      registers: [registry],
      collect() {
        this.reset();
        const s = services.budget.snapshot();
        for (const d of s.devices) this.set({ scope: 'device', name: d.name }, d[pick]);
        for (const t of s.tenants) this.set({ scope: 'tenant', name: t.name }, t[pick]);
      },
    });
  budgetGauge('tensorserve_memory_budget_bytes', 'Memory budget in bytes (0 = unlimited)', 'budgetBytes');
  budgetGauge('tensorserve_memory_used_bytes', 'Model memory charged against the budget', 'usedBytes');
  if (!services.enabled) return;
  const usageGauge = (name: string, help: string, pick: 'queued' | 'inFlight') =>
    new Gauge({
      name,
      help,
      labelNames: ['tenant'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of services.tenancy.tenants) {
          this.set({ tenant: t.id }, services.admission.usage(t.id)?.[pick] ?? 0);
        }
      },
    });
  usageGauge('tensorserve_tenant_queued_requests', "Tenant's admitted requests waiting to run", 'queued');
  usageGauge('tensorserve_tenant_in_flight_requests', "Tenant's requests running in a batch", 'inFlight');
}
