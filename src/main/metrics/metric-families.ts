import type { Registry } from 'prom-client';
import type { BucketHistogram } from './bucket-histogram.js';
import { type Labels, MetricFamily, pushHistogram, type Sample } from './metric-family.js';
import {
  FAILURE_REASONS,
  type ModelRecord,
  NO_VERSION,
  OK_INDEX,
  REASON_OF_STATUS,
  STATUS_CODES,
  TenantSlice,
  type VersionRecord,
} from './model-records.js';

/** Every metric name tensorserve exposes (TF Serving's, Triton's, then its own). */
export const METRIC_NAMES = Object.freeze({
  requestCount: ':tensorflow:serving:request_count',
  requestLatency: ':tensorflow:serving:request_latency',
  runtimeLatency: ':tensorflow:serving:runtime_latency',
  queuingLatency: ':tensorflow:serving:batching_session:queuing_latency',
  inputBatchSize: ':tensorflow:serving:batching_session:input_batch_size',
  processedBatchSize: ':tensorflow:serving:batching_session:processed_batch_size',
  paddingSize: ':tensorflow:serving:batching_session:padding_size',
  requestSuccess: 'nv_inference_request_success',
  requestFailure: 'nv_inference_request_failure',
  inferenceCount: 'nv_inference_count',
  execCount: 'nv_inference_exec_count',
  requestDuration: 'nv_inference_request_duration_us',
  queueDuration: 'nv_inference_queue_duration_us',
  computeInputDuration: 'nv_inference_compute_input_duration_us',
  computeInferDuration: 'nv_inference_compute_infer_duration_us',
  computeOutputDuration: 'nv_inference_compute_output_duration_us',
  pendingRequests: 'nv_inference_pending_request_count',
  versionState: 'tensorserve_model_version_state',
  loadDuration: 'tensorserve_model_load_duration_seconds',
  deviceUtilization: 'tensorserve_device_worker_utilization',
  deviceBusySeconds: 'tensorserve_device_worker_busy_seconds_total',
  deviceQueueDepth: 'tensorserve_device_queue_depth',
  batchFaultIsolation: 'tensorserve_batch_fault_isolation_total',
});

/** TF's batching metrics carry the batching op's name; tensorserve batches outside the graph. */
export const OP_NAME = 'tensorserve_batch';

export interface PendingEntry {
  readonly model: string;
  readonly version: number;
  readonly pending: number;
}

export interface DeviceEntry {
  readonly device: string;
  /** Busy fraction of the device's workers over a recent window, 0..1. */
  readonly utilization: number;
  /** Seconds the device's workers spent running batches since start, summed over workers (a counter). */
  readonly busySeconds?: number;
  /** Requests waiting in the batch queues of the models placed on this device. */
  readonly queueDepth: number;
}

/** What the families read at scrape time; implemented by ServerMetrics. */
export interface FamilySource {
  readonly models: ReadonlyMap<string, ModelRecord>;
  readonly tenantLabel: boolean;
  pending(): readonly PendingEntry[];
  devices(): readonly DeviceEntry[];
}

const EMPTY_SLICE = new TenantSlice();

export function registerFamilies(registry: Registry, src: FamilySource): void {
  const tenantNames = src.tenantLabel ? ['tenant'] : [];
  const family = (
    name: string,
    help: string,
    type: 'counter' | 'gauge' | 'histogram',
    labels: string[],
    collect: (out: Sample[]) => void,
  ) => new MetricFamily(name, help, type, labels, collect).registerIn(registry);

  const versions = function* (withNoVersion: boolean): Generator<VersionRecord> {
    for (const m of src.models.values()) {
      for (const v of m.versions.values()) if (withNoVersion || v.version !== NO_VERSION) yield v;
    }
  };
  // Slices of a version with their label sets; with tenancy off a version with no
  // requests still reports zeros, as Triton does for a loaded model.
  const slices = function* (v: VersionRecord): Generator<[Labels, TenantSlice]> {
    const base = { model: v.model, version: v.label };
    if (!src.tenantLabel) {
      yield [base, v.tenants.get('') ?? EMPTY_SLICE];
      return;
    }
    for (const [tenant, s] of v.tenants) yield [{ ...base, tenant }, s];
  };
  const perSlice = (name: string, help: string, value: (s: TenantSlice) => number) =>
    family(name, help, 'counter', ['model', 'version', ...tenantNames], (out) => {
      for (const v of versions(true)) {
        if (v.version === NO_VERSION && v.tenants.size === 0) continue;
        for (const [labels, s] of slices(v)) out.push({ labels, value: value(s) });
      }
    });
  const perVersion = (
    name: string,
    help: string,
    type: 'counter' | 'gauge',
    value: (v: VersionRecord) => number,
  ) =>
    family(name, help, type, ['model', 'version'], (out) => {
      for (const v of versions(false))
        out.push({ labels: { model: v.model, version: v.label }, value: value(v) });
    });

  // TF Serving
  family(
    METRIC_NAMES.requestCount,
    'The total number of requests.',
    'counter',
    ['model_name', 'status', ...tenantNames],
    (out) => {
      for (const m of src.models.values()) {
        const byTenant = new Map<string, Float64Array>();
        for (const v of m.versions.values()) {
          for (const [tenant, s] of v.tenants) {
            let acc = byTenant.get(tenant);
            if (acc === undefined) {
              acc = new Float64Array(STATUS_CODES.length);
              byTenant.set(tenant, acc);
            }
            for (let i = 0; i < acc.length; i++) acc[i] += s.codes[i];
          }
        }
        for (const [tenant, acc] of byTenant) {
          for (let i = 0; i < acc.length; i++) {
            if (acc[i] === 0) continue;
            const labels: Labels = { model_name: m.name, status: STATUS_CODES[i] };
            if (src.tenantLabel) labels.tenant = tenant;
            out.push({ labels, value: acc[i] });
          }
        }
      }
    },
  );
  const nestedHistograms = (
    name: string,
    help: string,
    labelNames: [string, string],
    pick: (m: ModelRecord) => Map<string, Map<string, BucketHistogram>>,
  ) =>
    family(name, help, 'histogram', ['model_name', ...labelNames], (out) => {
      for (const m of src.models.values()) {
        for (const [a, inner] of pick(m)) {
          for (const [b, h] of inner)
            pushHistogram(out, name, { model_name: m.name, [labelNames[0]]: a, [labelNames[1]]: b }, h);
        }
      }
    });
  nestedHistograms(
    METRIC_NAMES.requestLatency,
    'Distribution of wall time (in microseconds) for Tensorflow Serving request.',
    ['API', 'entrypoint'],
    (m) => m.requestLatency,
  );
  nestedHistograms(
    METRIC_NAMES.runtimeLatency,
    'Distribution of wall time (in microseconds) for Tensorflow runtime.',
    ['API', 'runtime'],
    (m) => m.runtimeLatency,
  );
  family(
    METRIC_NAMES.queuingLatency,
    'Distribution of wall time spent (in microseconds) in queuing',
    'histogram',
    ['thread_pool_name'],
    (out) => {
      for (const m of src.models.values())
        if (m.queuing.count > 0)
          pushHistogram(out, METRIC_NAMES.queuingLatency, { thread_pool_name: m.name }, m.queuing);
    },
  );
  const batchHistogram = (name: string, help: string, pick: (m: ModelRecord) => BucketHistogram) =>
    family(name, help, 'histogram', ['model_name', 'op_name'], (out) => {
      for (const m of src.models.values()) {
        const h = pick(m);
        if (h.count > 0) pushHistogram(out, name, { model_name: m.name, op_name: OP_NAME }, h);
      }
    });
  batchHistogram(
    METRIC_NAMES.inputBatchSize,
    'Tracks the batch size distribution on the inputs by model_name.',
    (m) => m.inputBatchSize,
  );
  batchHistogram(
    METRIC_NAMES.processedBatchSize,
    'Tracks the batch size distribution on processing by model_name.',
    (m) => m.processedBatchSize,
  );
  family(
    METRIC_NAMES.paddingSize,
    'Tracks the padding size distribution on batches by model_name.',
    'histogram',
    ['model_name', 'execution_batch_size', 'op_name'],
    (out) => {
      for (const m of src.models.values()) {
        for (const [size, h] of m.paddingSize) {
          pushHistogram(
            out,
            METRIC_NAMES.paddingSize,
            { model_name: m.name, execution_batch_size: String(size), op_name: OP_NAME },
            h,
          );
        }
      }
    },
  );

  // Triton (durations are cumulative microsecond counters, as Triton's are)
  perSlice(
    METRIC_NAMES.requestSuccess,
    'Number of successful inference requests, all batch sizes',
    (s) => s.codes[OK_INDEX],
  );
  family(
    METRIC_NAMES.requestFailure,
    'Number of failed inference requests, all batch sizes',
    'counter',
    ['model', 'version', 'reason', ...tenantNames],
    (out) => {
      const byReason = new Float64Array(FAILURE_REASONS.length);
      for (const v of versions(true)) {
        if (v.version === NO_VERSION && v.tenants.size === 0) continue;
        for (const [labels, s] of slices(v)) {
          byReason.fill(0);
          for (let i = 0; i < s.codes.length; i++)
            if (i !== OK_INDEX) byReason[REASON_OF_STATUS[i]] += s.codes[i];
          for (let r = 0; r < FAILURE_REASONS.length; r++)
            out.push({ labels: { ...labels, reason: FAILURE_REASONS[r] }, value: byReason[r] });
        }
      }
    },
  );
  perSlice(
    METRIC_NAMES.inferenceCount,
    'Number of inferences performed (does not include cached requests)',
    (s) => s.inferenceCount,
  );
  perVersion(
    METRIC_NAMES.execCount,
    'Number of model executions performed (does not include cached requests)',
    'counter',
    (v) => v.executionCount,
  );
  perSlice(
    METRIC_NAMES.requestDuration,
    'Cumulative inference request duration in microseconds',
    (s) => s.successMicros,
  );
  perVersion(
    METRIC_NAMES.queueDuration,
    'Cumulative inference queuing duration in microseconds',
    'counter',
    (v) => v.queue.micros,
  );
  perVersion(
    METRIC_NAMES.computeInputDuration,
    'Cumulative compute input duration in microseconds',
    'counter',
    (v) => v.computeInput.micros,
  );
  perVersion(
    METRIC_NAMES.computeInferDuration,
    'Cumulative compute inference duration in microseconds',
    'counter',
    (v) => v.computeInfer.micros,
  );
  perVersion(
    METRIC_NAMES.computeOutputDuration,
    'Cumulative compute output duration in microseconds',
    'counter',
    (v) => v.computeOutput.micros,
  );
  family(
    METRIC_NAMES.pendingRequests,
    'Instantaneous number of pending requests awaiting execution per-model.',
    'gauge',
    ['model', 'version'],
    (out) => {
      for (const p of src.pending())
        out.push({ labels: { model: p.model, version: String(p.version) }, value: p.pending });
    },
  );

  // tensorserve
  family(
    METRIC_NAMES.versionState,
    'TF Serving state of each model version (10 START .. 50 END).',
    'gauge',
    ['model', 'version'],
    (out) => {
      for (const v of versions(false))
        if (v.state >= 0) out.push({ labels: { model: v.model, version: v.label }, value: v.state });
    },
  );
  family(
    METRIC_NAMES.loadDuration,
    'Duration of successful model version loads in seconds.',
    'histogram',
    ['model'],
    (out) => {
      for (const m of src.models.values())
        if (m.loadSeconds.count > 0)
          pushHistogram(out, METRIC_NAMES.loadDuration, { model: m.name }, m.loadSeconds);
    },
  );
  family(
    METRIC_NAMES.deviceUtilization,
    'Busy fraction of the workers of each device over the interval since the previous scrape (0..1).',
    'gauge',
    ['device'],
    (out) => {
      for (const d of src.devices()) out.push({ labels: { device: d.device }, value: d.utilization });
    },
  );
  family(
    METRIC_NAMES.deviceBusySeconds,
    'Seconds the workers of each device spent running batches, summed over workers; rate() / workers = utilization.',
    'counter',
    ['device'],
    (out) => {
      for (const d of src.devices())
        if (d.busySeconds !== undefined) out.push({ labels: { device: d.device }, value: d.busySeconds });
    },
  );
  family(
    METRIC_NAMES.deviceQueueDepth,
    'Requests waiting in the batch queues of the models placed on each device.',
    'gauge',
    ['device'],
    (out) => {
      for (const d of src.devices()) out.push({ labels: { device: d.device }, value: d.queueDepth });
    },
  );
  family(
    METRIC_NAMES.batchFaultIsolation,
    'Batch fault isolation: event="bisected" counts failed batches of several requests re-run in halves; event="isolated" counts requests that then failed alone (only they got the error).',
    'counter',
    ['model', 'event'],
    (out) => {
      for (const m of src.models.values()) {
        if (m.faultBisections === 0 && m.isolatedFailures === 0) continue;
        out.push({ labels: { model: m.name, event: 'bisected' }, value: m.faultBisections });
        out.push({ labels: { model: m.name, event: 'isolated' }, value: m.isolatedFailures });
      }
    },
  );
}
