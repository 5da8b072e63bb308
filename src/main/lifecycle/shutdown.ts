import type { LifecycleLogger } from './logger.js';

/** What a graceful shutdown does to the server, step by step (the server implements these). */
export interface ShutdownSteps {
  /** Readiness false everywhere (REST probes 503, gRPC health NOT_SERVING); serving goes on. */
  notReady(): void;
  /**
   * Stop accepting connections, ask open ones to close (`Connection: close`, GOAWAY), close
   * idle ones; resolves once every accepted request has been answered and its connection closed.
   */
  stopAccepting(): Promise<void>;
  /** The deadline passed: destroy every connection still open; returns how many there were. */
  destroyConnections(): number;
  /** Close queues, unload every version, stop the workers. */
  unload(): Promise<void>;
}

export interface ShutdownTimings {
  /** How long readiness is false before the server stops accepting (server.shutdown_delay_ms). */
  readonly delayMs: number;
  /** Bound from the start of the shutdown to the destruction of open connections (server.drain_timeout_ms). */
  readonly drainTimeoutMs: number;
}

/** How a shutdown went, for the final log line and the exit code. */
export interface ShutdownReport {
  /** Connections destroyed at the deadline (0: everything accepted was answered). */
  readonly destroyedConnections: number;
  readonly durationMs: number;
}

/**
 * The graceful shutdown sequence (SIGTERM, SIGINT), each phase logged:
 * 1. readiness turns false at once, and requests are still accepted and served for `delayMs`,
 *    so load balancers and endpoint controllers take the instance out first;
 * 2. the front ends stop accepting, busy keep-alive connections close after their answer,
 *    idle ones are closed, and every accepted or queued request is finished;
 * 3. at `drainTimeoutMs` after the start, connections still open (stalled clients, HTTP/2
 *    peers ignoring GOAWAY, half-sent requests) are destroyed;
 * 4. queues, versions and workers are closed.
 * `run` is idempotent: later calls return the first call's promise. Never rejects because of a
 * client; an unload failure rejects.
 */
export class Shutdown {
  #running: Promise<ShutdownReport> | undefined;

  constructor(
    private readonly steps: ShutdownSteps,
    private readonly timings: ShutdownTimings,
    private readonly logger: LifecycleLogger,
  ) {}

  get started(): boolean {
    return this.#running !== undefined;
  }

  run(reason: string): Promise<ShutdownReport> {
    this.#running ??= this.#run(reason);
    return this.#running;
  }

  async #run(reason: string): Promise<ShutdownReport> {
    const started = Date.now();
    const { delayMs, drainTimeoutMs } = this.timings;
    const deadline = started + drainTimeoutMs;
    this.steps.notReady();
    this.logger.info(
      { phase: 'not_ready', reason, shutdown_delay_ms: delayMs, drain_timeout_ms: drainTimeoutMs },
      'shutdown: readiness is false; still accepting and serving',
    );
    if (delayMs > 0) await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())));
    this.logger.info(
      { phase: 'stop_accepting', reason },
      'shutdown: stopped accepting; finishing accepted requests',
    );
    const drained = this.steps.stopAccepting().then(() => true);
    const timer = deadlineTimer(deadline - Date.now());
    const inTime = await Promise.race([drained, timer.promise]);
    timer.cancel();
    let destroyedConnections = 0;
    if (inTime) {
      this.logger.info(
        { phase: 'drained', reason, elapsed_ms: Date.now() - started },
        'shutdown: every accepted request answered',
      );
    } else {
      destroyedConnections = this.steps.destroyConnections();
      this.logger.warn(
        {
          phase: 'deadline',
          reason,
          destroyed_connections: destroyedConnections,
          drain_timeout_ms: drainTimeoutMs,
        },
        'shutdown: drain timeout reached; destroyed the connections still open',
      );
    }
    await this.steps.unload();
    const durationMs = Date.now() - started;
    this.logger.info({ phase: 'unloaded', reason, elapsed_ms: durationMs }, 'shutdown: models unloaded');
    return { destroyedConnections, durationMs };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function deadlineTimer(ms: number): { promise: Promise<false>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const promise = new Promise<false>((resolve) => {
    handle = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  return { promise, cancel: () => clearTimeout(handle) };
}
