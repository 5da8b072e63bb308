/**
 * A Prometheus-style histogram over plain numbers: non-cumulative bucket counts, a sum and
 * a count. `observe` is a binary search and three additions, no allocation, so the request
 * path can afford several per request (a labelled prom-client `Histogram.observe` costs
 * about a microsecond: it hashes the label object on every call).
 *
 * Owned by one `ServerMetrics` on the main thread; read only when metrics are scraped.
 */
export class BucketHistogram {
  /** Upper bounds, increasing; shared between histograms of the same family. */
  readonly bounds: readonly number[];
  /** `counts[i]` observations fell in `(bounds[i-1], bounds[i]]`; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    // First bound >= value (Prometheus buckets are inclusive upper bounds).
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo] += 1;
    this.sum += value;
    this.count += 1;
  }
}

/**
 * TF Serving's `Buckets::Exponential(scale, growth, count)`: `scale * growth^i` for i in
 * [0, count). Bounds are rounded to 10 significant digits so `le` labels read cleanly.
 */
export function exponentialBuckets(scale: number, growth: number, count: number): readonly number[] {
  if (!(scale > 0) || !(growth > 1) || !Number.isInteger(count) || count < 1) {
    throw new RangeError('exponentialBuckets needs scale > 0, growth > 1 and a positive integer count');
  }
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Number((scale * growth ** i).toPrecision(10)));
  return Object.freeze(out);
}
