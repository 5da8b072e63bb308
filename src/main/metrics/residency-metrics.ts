import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { VersionChangeEvent } from '../lifecycle/model-versions.js';
import type { ResidencyEvent } from '../lifecycle/on-demand-state.js';
import type { MemoryBudget } from '../tenancy/memory-budget.js';

/** Cold-start latency buckets, seconds: small generated models load in ms, big ones in seconds. */
const COLD_START_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Request latency buckets, seconds: fine enough to read a warm p99 of a small model. */
const REQUEST_BUCKETS = [
  0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15,
  0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30,
];

export interface ResidencyMetricSources {
  readonly onChange: (listener: (event: VersionChangeEvent) => void) => () => void;
  readonly onResidency: (listener: (event: ResidencyEvent) => void) => () => void;
  readonly budget: MemoryBudget;
  /** Loaded versions by device (all models, pinned and on demand). */
  readonly residentVersions: () => readonly { device: string; tenant: string | undefined }[];
}

/**
 * Residency metrics (issue 12), registered in the server's registry:
 * - `tensorserve_model_loads_total{model,result=ok|failed}`: version loads (start-up, on demand, reloads);
 * - `tensorserve_model_evictions_total{model,reason=lru|idle}`;
 * - `tensorserve_residency_requests_total{model,result=hit|miss}`: requests of on-demand models that
 *   found their version resident (hit) or had to wait for a load (miss);
 * - `tensorserve_cold_start_seconds{model}`: first request of a cold load → AVAILABLE;
 * - `tensorserve_resident_bytes{scope=device|tenant,name}` and `tensorserve_resident_versions{device}`;
 * - `tensorserve_residency_request_seconds{result=hit|miss}`: server-side latency of requests of
 *   on-demand models, warm (hit) or including their cold start (miss).
 * The model label is bounded by the configured models. Returns the recorder of the last one.
 */
export function registerResidencyMetrics(
  registry: Registry,
  src: ResidencyMetricSources,
): (result: 'hit' | 'miss', latencyMicros: number) => void {
  const loads = new Counter({
    name: 'tensorserve_model_loads_total',
    help: 'Model version loads by outcome',
    labelNames: ['model', 'result'],
    registers: [registry],
  });
  const evictions = new Counter({
    name: 'tensorserve_model_evictions_total',
    help: 'On-demand model versions unloaded to make room (lru) or after idle_unload_seconds (idle)',
    labelNames: ['model', 'reason'],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'tensorserve_residency_requests_total',
    help: 'Requests of on-demand models: version resident (hit) or loaded for it (miss)',
    labelNames: ['model', 'result'],
    registers: [registry],
  });
  const coldStart = new Histogram({
    name: 'tensorserve_cold_start_seconds',
    help: 'On-demand cold start: first request asking for a version until it is AVAILABLE',
    labelNames: ['model'],
    buckets: COLD_START_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'tensorserve_resident_bytes',
    help: 'Memory charged by loaded model versions (measured when known, else estimated)',
    labelNames: ['scope', 'name'],
    registers: [registry],
    collect() {
      this.reset();
      const s = src.budget.snapshot();
      for (const d of s.devices) this.set({ scope: 'device', name: d.name }, d.usedBytes);
      for (const t of s.tenants) this.set({ scope: 'tenant', name: t.name }, t.usedBytes);
    },
  });
  new Gauge({
    name: 'tensorserve_resident_versions',
    help: 'Model versions loaded on each device',
    labelNames: ['device'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const v of src.residentVersions()) counts.set(v.device, (counts.get(v.device) ?? 0) + 1);
      for (const [device, n] of counts) this.set({ device }, n);
    },
  });
  src.onChange((e) => {
    if (e.state === 'AVAILABLE') loads.inc({ model: e.model, result: 'ok' });
    else if (e.state === 'END' && e.errorCode !== undefined) loads.inc({ model: e.model, result: 'failed' });
  });
  src.onResidency((e) => {
    if (e.kind === 'evict') evictions.inc({ model: e.model, reason: e.reason });
    else if (e.kind === 'cold-start') coldStart.observe({ model: e.model }, e.millis / 1000);
    else requests.inc({ model: e.model, result: e.kind });
  });
  const latency = new Histogram({
    name: 'tensorserve_residency_request_seconds',
    help: 'Server-side latency of requests of on-demand models: warm (hit) or with their cold start (miss)',
    labelNames: ['result'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const hit = latency.labels({ result: 'hit' });
  const miss = latency.labels({ result: 'miss' });
  return (result, micros) => (result === 'hit' ? hit : miss).observe(micros / 1e6);
}
