import * as hdr from 'hdr-histogram-js';

/** One load point's outcome, the same shape for every protocol and load generator. */
export interface LoadResult {
  readonly concurrency: number;
  /** Seconds the load ran (wall clock, measured by the generator). */
  readonly durationS: number;
  /** Successful responses (2xx / gRPC OK). */
  readonly ok: number;
  /** Failed responses or transport errors. */
  readonly errors: number;
  /** First error seen, to tell "overloaded" from "wrong request". */
  readonly firstError?: string;
  /** Successful responses per second. */
  readonly throughput: number;
  /** Latency percentiles of successful responses, milliseconds. */
  readonly latencyMs: {
    readonly mean: number;
    readonly p50: number;
    readonly p90: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
  };
}

/**
 * Collects latencies (microseconds, 3 significant digits, up to 10 minutes) of one load
 * point. Owned by one load generator run; not thread-safe (there is one thread).
 */
export class LatencyRecorder {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  ok = 0;
  errors = 0;
  firstError: string | undefined;

  recordOk(micros: number): void {
    this.ok++;
    this.histogram.recordValue(Math.max(1, Math.round(micros)));
  }

  recordError(message: string): void {
    this.errors++;
    this.firstError ??= message;
  }

  result(concurrency: number, durationS: number): LoadResult {
    const h = this.histogram;
    const ms = (p: number) => (this.ok === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
    return {
      concurrency,
      durationS,
      ok: this.ok,
      errors: this.errors,
      ...(this.firstError === undefined ? {} : { firstError: this.firstError }),
      throughput: durationS > 0 ? this.ok / durationS : 0,
      latencyMs: {
        mean: this.ok === 0 ? 0 : h.mean / 1000,
        p50: ms(50),
        p90: ms(90),
        p95: ms(95),
        p99: ms(99),
        max: this.ok === 0 ? 0 : h.maxValue / 1000,
      },
    };
  }
}
