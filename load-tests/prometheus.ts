/**
 * Scrapes tensorserve's Prometheus text and turns two scrapes into per-interval server
 * figures (Triton's counters): mean executed batch size and per-request queue / compute time.
 */

/** Metric name → summed value over the samples whose labels match the filter. */
export type MetricSnapshot = ReadonlyMap<string, number>;

const SAMPLE = /^([^\s{]+)(\{([^}]*)\})?\s+(\S+)/;

/** Sums each metric's samples (by name) whose `model` label, when present, equals `model`. */
export function parsePrometheus(text: string, model?: string): MetricSnapshot {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels = m[3] ?? '';
    if (model !== undefined && /(^|,)\s*(model|model_name)="/.test(labels)) {
      if (!labels.includes(`model="${model}"`) && !labels.includes(`model_name="${model}"`)) continue;
    }
    const value = Number(m[4]);
    if (!Number.isFinite(value)) continue;
    out.set(m[1], (out.get(m[1]) ?? 0) + value);
  }
  return out;
}

/** Fetches `<restUrl>/metrics`; undefined when the server exposes none (e.g. the naive peer). */
export async function scrape(restUrl: string, model?: string): Promise<MetricSnapshot | undefined> {
  try {
    const res = await fetch(`${restUrl}/metrics`);
    const text = await res.text();
    if (res.status !== 200) return undefined;
    return parsePrometheus(text, model);
  } catch {
    return undefined;
  }
}

/** Server-side figures over one load point; a field is undefined when its metrics are absent. */
export interface ServerStats {
  /** Samples per executed batch (nv_inference_count / nv_inference_exec_count). */
  readonly meanBatchSize?: number;
  /** Mean queue time per request, ms (nv_inference_queue_duration_us / requests). */
  readonly queueMs?: number;
  /**
   * Mean compute time per request, ms: Triton's compute input + infer + output
   * (nv_inference_compute_{input,infer,output}_duration_us) over requests.
   */
  readonly computeMs?: number;
}

const BATCH_SUM = ':tensorflow:serving:batching_session:processed_batch_size_sum';
const BATCH_COUNT = ':tensorflow:serving:batching_session:processed_batch_size_count';

/** Differences of two scrapes. Requests are counted by nv_inference_request_success, else nv_inference_count. */
export function serverStats(
  before: MetricSnapshot | undefined,
  after: MetricSnapshot | undefined,
): ServerStats {
  if (!before || !after) return {};
  const delta = (name: string) =>
    after.has(name) ? (after.get(name) ?? 0) - (before.get(name) ?? 0) : undefined;
  const samples = delta('nv_inference_count');
  const execs = delta('nv_inference_exec_count');
  const requests = delta('nv_inference_request_success') ?? samples;
  const queue = delta('nv_inference_queue_duration_us');
  const computeParts = [
    delta('nv_inference_compute_input_duration_us'),
    delta('nv_inference_compute_infer_duration_us'),
    delta('nv_inference_compute_output_duration_us'),
  ].filter((d) => d !== undefined);
  const compute = computeParts.length === 0 ? undefined : computeParts.reduce((a, b) => a + b, 0);
  const batchSum = delta(BATCH_SUM);
  const batchCount = delta(BATCH_COUNT);
  const stats: { meanBatchSize?: number; queueMs?: number; computeMs?: number } = {};
  if (samples !== undefined && execs !== undefined && execs > 0) stats.meanBatchSize = samples / execs;
  else if (batchSum !== undefined && batchCount !== undefined && batchCount > 0)
    stats.meanBatchSize = batchSum / batchCount;
  if (requests !== undefined && requests > 0) {
    if (queue !== undefined) stats.queueMs = queue / requests / 1000;
    if (compute !== undefined) stats.computeMs = compute / requests / 1000;
  }
  return stats;
}
