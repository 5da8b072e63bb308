import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BatchTimings } from '../../batching/executor.js';
import { VERSION_STATES } from '../../core/version-status.js';
import { BoundedLabel } from './bounded-label.js';
import { type KServeModelStats, type KServeStatsResponse, versionStats } from './kserve-stats.js';
import {
  type DeviceEntry,
  type FamilySource,
  type PendingEntry,
  registerFamilies,
} from './metric-families.js';
import {
  LATENCY_BUCKETS,
  ModelRecord,
  NO_VERSION,
  nestedHistogram,
  OK_INDEX,
  statusIndex,
} from './model-records.js';

export interface ServerMetricsOptions {
  /** prom-client's default process metrics (CPU, memory, event loop, GC) in this registry. Default true. */
  readonly defaultMetrics?: boolean;
  /** Adds a `tenant` label to the per-request counters. Default false (tenancy off). */
  readonly tenantLabel?: boolean;
  /** Distinct tenant label values before the rest report as `__other__`. Default 100. */
  readonly maxTenantLabels?: number;
  /**
   * Distinct model label values before the rest report as `__other__`. Default 1000. Names
   * that never had a version report as `__unknown__` whatever this is.
   */
  readonly maxModelLabels?: number;
  /** ms since the epoch, for `last_inference`. Default Date.now. */
  readonly now?: () => number;
}

/** One finished predict/infer call, success or failure (PredictObservation has this shape). */
export interface RequestObservation {
  readonly model: string;
  /** undefined when the call failed before a version was resolved. */
  readonly version: number | undefined;
  readonly tenant: string | undefined;
  /** e.g. `predict`, `classify`, `infer`; a small closed set chosen by the front ends. */
  readonly api: string;
  /** e.g. `REST`, `GRPC`. */
  readonly entrypoint: string;
  /** `OK` or a ServingError code name. */
  readonly code: string;
  readonly latencyMicros: number;
  /** The request's rows (dim 0). */
  readonly rows: number;
  /** Enqueue → batch start; 0 when it never queued. */
  readonly queueMicros: number;
  /** The timings of the batch it ran in (absent when it never ran). */
  readonly timings?: BatchTimings | undefined;
  /** TF Serving's `runtime` label of runtime_latency, e.g. `onnx`, `tfjs`. Default `unknown`. */
  readonly runtime?: string | undefined;
}

/** One executed batch, as its worker reported it. */
export interface BatchObservation {
  readonly model: string;
  readonly version: number;
  /** Rows of real requests. */
  readonly inputBatchSize: number;
  /** Rows executed (padding included). */
  readonly processedBatchSize: number;
  readonly paddingSize: number;
  readonly computeInferMicros: number;
  readonly computeInputMicros?: number;
  readonly computeOutputMicros?: number;
}

const MAX_ENDED_VERSIONS = 16;

/**
 * The model label of requests for a model the server has never served (misspelt names,
 * probes): one series for all of them, so clients cannot grow the label set.
 */
export const UNKNOWN_MODEL = '__unknown__';

/**
 * All of the server's metrics and statistics. Owned by the server and used on the main
 * thread only: workers send their timings back with each batch result and the main thread
 * records them here, so nothing is aggregated across threads.
 *
 * Every number lives once, in plain accumulators; the Prometheus exposition (TF Serving's,
 * Triton's and tensorserve's names) and the KServe statistics JSON are both computed from
 * them on read, so they always agree. Recording costs a few map lookups and additions and
 * never allocates after a label set's first use. No method throws on bad input: metrics
 * must never fail a request.
 */
export class ServerMetrics {
  readonly registry: Registry;
  private readonly models = new Map<string, ModelRecord>();
  /** Models that had a version (state change, batch, or a request that resolved one). */
  private readonly known = new Set<string>();
  private readonly modelLabels: BoundedLabel;
  private readonly tenantLabels: BoundedLabel | undefined;
  private readonly now: () => number;
  private pendingProvider: () => readonly PendingEntry[] = () => [];
  private deviceProvider: () => readonly DeviceEntry[] = () => [];

  constructor(options: ServerMetricsOptions = {}) {
    this.registry = new Registry();
    this.modelLabels = new BoundedLabel(options.maxModelLabels ?? 1000);
    this.tenantLabels = options.tenantLabel ? new BoundedLabel(options.maxTenantLabels ?? 100) : undefined;
    this.now = options.now ?? Date.now;
    const src: FamilySource = {
      models: this.models,
      tenantLabel: this.tenantLabels !== undefined,
      pending: () => safely(this.pendingProvider),
      devices: () => safely(this.deviceProvider),
    };
    registerFamilies(this.registry, src);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Exposition format content type of `metricsText()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  recordRequest(o: RequestObservation): void {
    if (o.version !== undefined) this.known.add(o.model);
    const m = this.model(this.known.has(o.model) ? o.model : UNKNOWN_MODEL);
    const v = m.version(o.version ?? NO_VERSION);
    const status = statusIndex(o.code);
    const slice = v.slice(this.tenantLabels === undefined ? '' : this.tenantLabels.map(o.tenant ?? ''));
    slice.codes[status] += 1;
    const latency = nonNegative(o.latencyMicros);
    nestedHistogram(m.requestLatency, o.api, o.entrypoint, LATENCY_BUCKETS).observe(latency);
    if (v.version !== NO_VERSION) v.lastInference = this.now();
    if (status !== OK_INDEX) {
      v.failMicros += latency;
      return;
    }
    slice.inferenceCount += nonNegative(o.rows);
    slice.successMicros += latency;
    const queue = nonNegative(o.queueMicros);
    v.queue.add(queue);
    m.queuing.observe(queue);
    const t = o.timings;
    if (t !== undefined) {
      const ci = nonNegative(t.computeInputMicros);
      const cf = nonNegative(t.computeInferMicros);
      const co = nonNegative(t.computeOutputMicros);
      v.computeInput.add(ci);
      v.computeInfer.add(cf);
      v.computeOutput.add(co);
      nestedHistogram(m.runtimeLatency, o.api, o.runtime ?? 'unknown', LATENCY_BUCKETS).observe(ci + cf + co);
    }
  }

  recordBatch(o: BatchObservation): void {
    this.known.add(o.model);
    const m = this.model(o.model);
    const v = m.version(o.version);
    v.executionCount += 1;
    const b = v.batch(o.processedBatchSize);
    b.computeInput.add(nonNegative(o.computeInputMicros ?? 0));
    b.computeInfer.add(nonNegative(o.computeInferMicros));
    b.computeOutput.add(nonNegative(o.computeOutputMicros ?? 0));
    m.inputBatchSize.observe(o.inputBatchSize);
    m.processedBatchSize.observe(o.processedBatchSize);
    m.padding(o.processedBatchSize).observe(o.paddingSize);
  }

  /**
   * A version changed state (`START`..`END`, TF Serving's names). `loadMillis`, given with
   * AVAILABLE, feeds the load duration histogram. Unknown state names report 0 (UNKNOWN).
   */
  recordVersionState(model: string, version: number, state: string, loadMillis?: number): void {
    this.known.add(model);
    const m = this.model(model);
    const v = m.version(version);
    v.state = (VERSION_STATES as Record<string, number>)[state] ?? VERSION_STATES.UNKNOWN;
    if (loadMillis !== undefined && loadMillis >= 0) m.loadSeconds.observe(loadMillis / 1000);
    if (v.state === VERSION_STATES.END) forgetOldEndedStates(m);
  }

  /** Called on each scrape for `nv_inference_pending_request_count`. Must be cheap; errors are ignored. */
  setPendingProvider(fn: () => Array<{ model: string; version: number; pending: number }>): void {
    this.pendingProvider = fn;
  }

  /** Called on each scrape for the per-device gauges. Must be cheap; errors are ignored. */
  setDeviceProvider(fn: () => readonly DeviceEntry[]): void {
    this.deviceProvider = fn;
  }

  /**
   * KServe/Triton statistics: every version of `model` (or of every model when undefined),
   * or only `version`; ascending versions. Empty when nothing was recorded for it; the
   * route decides whether that is NOT_FOUND.
   */
  stats(model?: string, version?: number): KServeModelStats[] {
    const out: KServeModelStats[] = [];
    const models =
      model === undefined
        ? [...this.models.values()]
        : [this.models.get(model)].filter((m) => m !== undefined);
    for (const m of models) {
      const versions = [...m.versions.keys()].filter(
        (v) => v !== NO_VERSION && (version === undefined || v === version),
      );
      for (const v of versions.sort((a, b) => a - b)) out.push(versionStats(m.versions.get(v)!));
    }
    return out;
  }

  /** `stats()` wrapped as the route's body. */
  statsResponse(model?: string, version?: number): KServeStatsResponse {
    return { model_stats: this.stats(model, version) };
  }

  private model(name: string): ModelRecord {
    let m = this.models.get(name);
    if (m !== undefined) return m;
    const label = this.modelLabels.map(name);
    m = this.models.get(label);
    if (m === undefined) {
      m = new ModelRecord(label);
      this.models.set(label, m);
    }
    return m;
  }
}

/** Negative and NaN inputs count as 0 (Math.max would keep NaN and poison the sums). */
function nonNegative(x: number): number {
  // biome-ignore lint/complexity/useMathMinMax: Math.max(NaN, 0) is NaN.
  return x > 0 ? x : 0;
}

function safely<T>(fn: () => readonly T[]): readonly T[] {
  try {
    return fn();
  } catch {
    return [];
  }
}

/** Ended versions keep their counters (stats are cumulative) but only the newest few keep a state series. */
function forgetOldEndedStates(m: ModelRecord): void {
  const ended = [...m.versions.values()].filter((v) => v.state === VERSION_STATES.END);
  if (ended.length <= MAX_ENDED_VERSIONS) return;
  ended.sort((a, b) => a.version - b.version);
  for (const v of ended.slice(0, ended.length - MAX_ENDED_VERSIONS)) v.state = -1;
}
