import type { CallerIdentity } from '../../core/caller-identity.js';
import type { ModelConfig } from '../config/model-config.js';
import { internalModelName, NAMESPACE_SEPARATOR } from '../config/model-names.js';
import type { DeviceConfig } from '../config/server-config.js';
import type { TenancyConfig } from '../config/tenant-config.js';
import { AdmissionController } from './admission.js';
import { Authenticator, type Credentials } from './authenticator.js';
import { InFlightGate } from './in-flight-gate.js';
import { MemoryBudget } from './memory-budget.js';
import { ModelNamespace } from './namespace.js';

export interface TenancyServicesOptions {
  readonly tenancy: TenancyConfig;
  readonly devices: readonly DeviceConfig[];
  /** Server-wide bound on requests waiting to run (0 = none). */
  readonly maxQueuedRequests: number;
}

/**
 * Everything tenancy adds to a running server, built once from the config: who the caller
 * is (Authenticator), which models it sees (ModelNamespace), its request quotas
 * (AdmissionController, InFlightGate) and the memory budgets (MemoryBudget). With no tenants
 * configured it is the open single-tenant server: every caller is anonymous and unlimited,
 * only the server-wide queue bound and the device memory budgets apply.
 */
export class TenancyServices {
  private current: TenancyConfig;
  private auth: Authenticator;
  readonly namespaces: ModelNamespace;
  readonly admission: AdmissionController;
  readonly inFlight: InFlightGate;
  readonly budget: MemoryBudget;

  constructor(options: TenancyServicesOptions) {
    const { tenancy } = options;
    this.current = tenancy;
    this.auth = new Authenticator(tenancy);
    this.namespaces = new ModelNamespace(tenancy);
    this.admission = new AdmissionController(tenancy.tenants, {
      maxQueuedTotal: options.maxQueuedRequests,
    });
    this.inFlight = new InFlightGate(tenancy.tenants.map((t) => [t.id, t.quotas.maxInFlight] as const));
    this.budget = MemoryBudget.fromConfig(options.devices, tenancy.tenants);
  }

  /** The tenancy in effect (the last one `update` took). */
  get tenancy(): TenancyConfig {
    return this.current;
  }

  get authenticator(): Authenticator {
    return this.auth;
  }

  get enabled(): boolean {
    return this.current.enabled;
  }

  /**
   * Takes a reloaded tenancy: keys (rotation: old keys stop working, new ones work at once),
   * certificate subjects, shared models, request and memory quotas. Requests already admitted
   * finish under the quotas they were admitted with. Turning tenancy on or off is not a
   * reload (metrics labels and the scheduling policy depend on it): throws Error.
   */
  update(next: TenancyConfig): void {
    if (next.enabled !== this.current.enabled) {
      throw new Error('tenancy cannot be turned on or off without a restart');
    }
    this.auth = new Authenticator(next);
    this.namespaces.update(next);
    this.admission.setTenants(next.tenants);
    this.inFlight.setLimits(next.tenants.map((t) => [t.id, t.quotas.maxInFlight] as const));
    this.budget.setTenantBudgets(
      Object.fromEntries(next.tenants.map((t) => [t.id, t.quotas.maxMemoryBytes])),
    );
    this.current = next;
  }

  /**
   * The caller for a front end: undefined when tenancy is off (the front ends' "open"
   * convention), else the tenant or admin. Throws ServingError UNAUTHENTICATED.
   */
  authenticate(credentials: Credentials): CallerIdentity | undefined {
    return this.tenancy.enabled ? this.authenticator.authenticate(credentials) : undefined;
  }

  /**
   * The model as the lifecycle manager knows it: a tenant's model is renamed `tenant/name`.
   * A tenant-less model named `tenant/name` (from a reload RPC or text config) is given to
   * that tenant when it exists; anything else is a shared model.
   */
  toManaged(model: ModelConfig): ModelConfig {
    if (model.tenant !== undefined) {
      const prefix = `${model.tenant}${NAMESPACE_SEPARATOR}`;
      return model.name.startsWith(prefix) ? model : { ...model, name: internalModelName(model) };
    }
    const i = model.name.indexOf(NAMESPACE_SEPARATOR);
    if (i > 0 && this.tenancy.tenants.some((t) => t.id === model.name.slice(0, i))) {
      return { ...model, tenant: model.name.slice(0, i) };
    }
    return model;
  }
}
