/**
 * Per-tenant server-side time from tensorserve's Prometheus text (tenant-labelled Triton
 * counters), so a client-side latency can be split into "inside the inference core" and
 * "before it" (HTTP, body parsing, waiting for the main thread).
 */
import { parsePrometheus } from './prometheus.js';

/** Per-tenant counter sums of one scrape; undefined when the server has no metrics. */
export async function scrapeTenant(
  restUrl: string,
  tenant: string,
  /** Admin or scrape key; the metrics need one when tenancy is on. */
  key?: string,
): Promise<ReadonlyMap<string, number> | undefined> {
  try {
    const res = await fetch(`${restUrl}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    const text = await res.text();
    if (res.status !== 200) return undefined;
    const lines = text.split('\n').filter((l) => l.includes(`tenant="${tenant}"`));
    return parsePrometheus(lines.join('\n'));
  } catch {
    return undefined;
  }
}

/** Mean server-side figures per successful request of one tenant between two scrapes, ms. */
export interface TenantServerTime {
  readonly requests: number;
  /** nv_inference_request_duration_us: from entering the inference core to the answer. */
  readonly requestMs?: number;
  /** nv_inference_queue_duration_us: waiting in the batch scheduler. */
  readonly queueMs?: number;
}

export function tenantServerTime(
  before: ReadonlyMap<string, number> | undefined,
  after: ReadonlyMap<string, number> | undefined,
): TenantServerTime | undefined {
  if (!before || !after) return undefined;
  const delta = (name: string) =>
    after.has(name) ? (after.get(name) ?? 0) - (before.get(name) ?? 0) : undefined;
  const requests = delta('nv_inference_request_success') ?? 0;
  if (requests <= 0) return { requests: 0 };
  const req = delta('nv_inference_request_duration_us');
  const queue = delta('nv_inference_queue_duration_us');
  return {
    requests,
    ...(req === undefined ? {} : { requestMs: req / requests / 1000 }),
    ...(queue === undefined ? {} : { queueMs: queue / requests / 1000 }),
  };
}
