/** One finished request as the access log records it (no headers, no bodies, no tensors). */
export interface AccessEntry {
  /** `GET`, `POST` for REST; the full gRPC method name for gRPC. */
  readonly method: string;
  /** REST path without the query string; absent for gRPC. */
  readonly url?: string;
  /** HTTP status for REST. */
  readonly status?: number;
  /** gRPC status name (`OK`, `NOT_FOUND`, ...) for gRPC. */
  readonly grpc_status?: string;
  readonly duration_ms: number;
  readonly model?: string;
  readonly tenant?: string;
}

/**
 * Decides which requests get an access log line: every failed one, and a `rate` (0..1)
 * fraction of the successful ones. `random` is injectable for tests.
 */
export class AccessLogSampler {
  constructor(
    readonly rate: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError('access log sample rate must be in [0, 1]');
  }

  shouldLog(failed: boolean): boolean {
    if (failed || this.rate >= 1) return true;
    return this.rate > 0 && this.random() < this.rate;
  }
}
