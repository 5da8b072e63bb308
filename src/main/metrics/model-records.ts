import { ERROR_CODES } from '../../core/errors.js';
import { BucketHistogram, exponentialBuckets } from './bucket-histogram.js';

/** Status label values, in a fixed order: a request's status is an index into this. */
export const STATUS_CODES: readonly string[] = Object.freeze(Object.keys(ERROR_CODES));
const STATUS_INDEX = new Map(STATUS_CODES.map((c, i) => [c, i]));
export const OK_INDEX = STATUS_INDEX.get('OK')!;
const UNKNOWN_INDEX = STATUS_INDEX.get('UNKNOWN')!;

/** Index of an error code name; anything outside the closed set counts as UNKNOWN. */
export function statusIndex(code: string): number {
  return STATUS_INDEX.get(code) ?? UNKNOWN_INDEX;
}

/** Triton's `nv_inference_request_failure` reasons. */
export const FAILURE_REASONS = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

const REASON_BY_CODE: Record<string, FailureReason> = {
  // Refused by the scheduler: queue full, quota, or expired while queued.
  UNAVAILABLE: 'REJECTED',
  RESOURCE_EXHAUSTED: 'REJECTED',
  DEADLINE_EXCEEDED: 'REJECTED',
  CANCELLED: 'CANCELED',
  INTERNAL: 'BACKEND',
  UNKNOWN: 'BACKEND',
  DATA_LOSS: 'BACKEND',
};

/** `REASON_OF_STATUS[statusIndex]` is the failure reason's index in FAILURE_REASONS (unused for OK). */
export const REASON_OF_STATUS: readonly number[] = STATUS_CODES.map((c) =>
  FAILURE_REASONS.indexOf(REASON_BY_CODE[c] ?? 'OTHER'),
);

// TF Serving's own bucket layouts, so its dashboards' quantiles read the same.
export const LATENCY_BUCKETS = exponentialBuckets(10, 1.8, 33);
export const QUEUING_BUCKETS = exponentialBuckets(100, 1.2, 52);
export const BATCH_SIZE_BUCKETS = exponentialBuckets(1, 1.5, 20);
export const LOAD_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
]);

/** Cumulative count and duration (Triton's StatisticDuration, kept in µs here). */
export class Duration {
  count = 0;
  micros = 0;

  add(micros: number): void {
    this.count += 1;
    this.micros += micros;
  }
}

/** Per (model, version, tenant label): what carries the tenant label. */
export class TenantSlice {
  /** Requests by final status, indexed like STATUS_CODES. */
  readonly codes = new Float64Array(STATUS_CODES.length);
  /** Rows of successful requests (Triton's inference count). */
  inferenceCount = 0;
  /** End-to-end time of successful requests. */
  successMicros = 0;
}

/** Per executed batch size, like Triton's batch_stats. */
export class BatchSizeStats {
  readonly computeInput = new Duration();
  readonly computeInfer = new Duration();
  readonly computeOutput = new Duration();
}

/** No version resolved (e.g. the request failed before a version was chosen). */
export const NO_VERSION = -1;

/** Everything recorded for one model version, on the main thread. */
export class VersionRecord {
  readonly model: string;
  readonly version: number;
  /** The `version` label: the number, or '' for NO_VERSION. */
  readonly label: string;
  /** TF Serving state number, or -1 while no state was reported. */
  state = -1;
  lastInference = 0;
  failMicros = 0;
  executionCount = 0;
  readonly queue = new Duration();
  readonly computeInput = new Duration();
  readonly computeInfer = new Duration();
  readonly computeOutput = new Duration();
  readonly batches = new Map<number, BatchSizeStats>();
  readonly tenants = new Map<string, TenantSlice>();

  constructor(model: string, version: number) {
    this.model = model;
    this.version = version;
    this.label = version === NO_VERSION ? '' : String(version);
  }

  slice(tenant: string): TenantSlice {
    let s = this.tenants.get(tenant);
    if (s === undefined) {
      s = new TenantSlice();
      this.tenants.set(tenant, s);
    }
    return s;
  }

  batch(size: number): BatchSizeStats {
    let b = this.batches.get(size);
    if (b === undefined) {
      b = new BatchSizeStats();
      this.batches.set(size, b);
    }
    return b;
  }
}

/** Everything recorded for one model label (versions, and TF Serving's per-model histograms). */
export class ModelRecord {
  readonly name: string;
  readonly versions = new Map<number, VersionRecord>();
  /** request_latency by API, then entrypoint. */
  readonly requestLatency = new Map<string, Map<string, BucketHistogram>>();
  /** runtime_latency by API, then runtime. */
  readonly runtimeLatency = new Map<string, Map<string, BucketHistogram>>();
  readonly queuing = new BucketHistogram(QUEUING_BUCKETS);
  readonly inputBatchSize = new BucketHistogram(BATCH_SIZE_BUCKETS);
  readonly processedBatchSize = new BucketHistogram(BATCH_SIZE_BUCKETS);
  /** padding_size by execution batch size. */
  readonly paddingSize = new Map<number, BucketHistogram>();
  readonly loadSeconds = new BucketHistogram(LOAD_SECONDS_BUCKETS);
  /** Failed batches of several requests re-run in halves (batch fault isolation). */
  faultBisections = 0;
  /** Requests that failed alone after their batch had failed, so only they got the error. */
  isolatedFailures = 0;

  constructor(name: string) {
    this.name = name;
  }

  version(v: number): VersionRecord {
    let r = this.versions.get(v);
    if (r === undefined) {
      r = new VersionRecord(this.name, v);
      this.versions.set(v, r);
    }
    return r;
  }

  padding(executionBatchSize: number): BucketHistogram {
    let h = this.paddingSize.get(executionBatchSize);
    if (h === undefined) {
      h = new BucketHistogram(BATCH_SIZE_BUCKETS);
      this.paddingSize.set(executionBatchSize, h);
    }
    return h;
  }
}

/** `map.get(a).get(b)`, creating the histogram (and inner map) on first use. */
export function nestedHistogram(
  map: Map<string, Map<string, BucketHistogram>>,
  a: string,
  b: string,
  bounds: readonly number[],
): BucketHistogram {
  let inner = map.get(a);
  if (inner === undefined) {
    inner = new Map();
    map.set(a, inner);
  }
  let h = inner.get(b);
  if (h === undefined) {
    h = new BucketHistogram(bounds);
    inner.set(b, h);
  }
  return h;
}
