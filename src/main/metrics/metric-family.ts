import type { Metric, Registry } from 'prom-client';
import type { BucketHistogram } from './bucket-histogram.js';

export type FamilyType = 'counter' | 'gauge' | 'histogram';
export type Labels = Record<string, string>;

/** One exposition line's worth of data, in prom-client's `get()` shape. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
  /** Set for histogram series (`_bucket`, `_sum`, `_count`); the family name otherwise. */
  readonly metricName?: string;
}

/**
 * A metric family whose values live in plain-number accumulators and are read only at
 * scrape time. It implements what prom-client's `Registry` calls on a metric (`get()`,
 * `reset()`, name/help/type/aggregator), so it is exposed by `registry.metrics()` next to
 * ordinary prom-client metrics (the default process metrics among them).
 *
 * `collect` runs on every scrape, on the main thread, and must not throw (a provider
 * failure is swallowed there so one bad callback cannot break the whole scrape).
 */
export class MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly string[];
  private readonly collectInto: (out: Sample[]) => void;

  constructor(
    name: string,
    help: string,
    type: FamilyType,
    labelNames: readonly string[],
    collect: (out: Sample[]) => void,
  ) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.labelNames = labelNames;
    this.collectInto = collect;
  }

  /** prom-client's metric contract: the family's current samples. */
  async get(): Promise<{
    name: string;
    help: string;
    type: FamilyType;
    aggregator: 'sum';
    values: Sample[];
  }> {
    const values: Sample[] = [];
    this.collectInto(values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Cumulative by design (Prometheus computes rates); `registry.resetMetrics()` leaves these alone. */
  reset(): void {}

  registerIn(registry: Registry): void {
    // prom-client types `registerMetric` with its own classes; it only calls get()/reset().
    registry.registerMetric(this as unknown as Metric);
  }
}

/** Appends a histogram's `_bucket` (cumulative, `le`), `_sum` and `_count` samples. */
export function pushHistogram(out: Sample[], name: string, labels: Labels, h: BucketHistogram): void {
  const bucket = `${name}_bucket`;
  let acc = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    acc += h.counts[i];
    out.push({ labels: { ...labels, le: String(h.bounds[i]) }, value: acc, metricName: bucket });
  }
  out.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: bucket });
  out.push({ labels, value: h.sum, metricName: `${name}_sum` });
  out.push({ labels, value: h.count, metricName: `${name}_count` });
}
