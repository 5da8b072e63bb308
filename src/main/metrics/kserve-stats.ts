import { type Duration, OK_INDEX, type VersionRecord } from './model-records.js';

/** Triton's StatisticDuration: a cumulative count and a cumulative duration in ns. */
export interface StatisticDuration {
  count: number;
  ns: number;
}

export interface KServeInferenceStats {
  success: StatisticDuration;
  fail: StatisticDuration;
  queue: StatisticDuration;
  compute_input: StatisticDuration;
  compute_infer: StatisticDuration;
  compute_output: StatisticDuration;
}

export interface KServeBatchStats {
  batch_size: number;
  compute_input: StatisticDuration;
  compute_infer: StatisticDuration;
  compute_output: StatisticDuration;
}

/** One entry of `GET /v2/models/{m}[/versions/{v}]/stats` (Triton's statistics extension). */
export interface KServeModelStats {
  name: string;
  version: string;
  /** ms since the epoch; 0 before the first request. */
  last_inference: number;
  /** Rows of successful requests. */
  inference_count: number;
  /** Batches executed. */
  execution_count: number;
  inference_stats: KServeInferenceStats;
  batch_stats: KServeBatchStats[];
}

/** The statistics route's body. */
export interface KServeStatsResponse {
  model_stats: KServeModelStats[];
}

function duration(count: number, micros: number): StatisticDuration {
  return { count, ns: Math.round(micros * 1000) };
}

function fromDuration(d: Duration): StatisticDuration {
  return duration(d.count, d.micros);
}

/** Builds one version's statistics from the same accumulators the metrics read. */
export function versionStats(v: VersionRecord): KServeModelStats {
  let success = 0;
  let fail = 0;
  let inferences = 0;
  let successMicros = 0;
  for (const s of v.tenants.values()) {
    for (let i = 0; i < s.codes.length; i++) {
      if (i === OK_INDEX) success += s.codes[i];
      else fail += s.codes[i];
    }
    inferences += s.inferenceCount;
    successMicros += s.successMicros;
  }
  const batchSizes = [...v.batches.keys()].sort((a, b) => a - b);
  return {
    name: v.model,
    version: v.label,
    last_inference: v.lastInference,
    inference_count: inferences,
    execution_count: v.executionCount,
    inference_stats: {
      success: duration(success, successMicros),
      fail: duration(fail, v.failMicros),
      queue: fromDuration(v.queue),
      compute_input: fromDuration(v.computeInput),
      compute_infer: fromDuration(v.computeInfer),
      compute_output: fromDuration(v.computeOutput),
    },
    batch_stats: batchSizes.map((size) => {
      const b = v.batches.get(size)!;
      return {
        batch_size: size,
        compute_input: fromDuration(b.computeInput),
        compute_infer: fromDuration(b.computeInfer),
        compute_output: fromDuration(b.computeOutput),
      };
    }),
  };
}
