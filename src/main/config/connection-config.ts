/**
 * Connection-level limits and timeouts of both front ends, and the shutdown timings: the YAML
 * schema fragments (`server.connections`, `server.grpc`, `server.shutdown_delay_ms`) and the
 * builder of their validated form. Every value here is documented in README.md ("Limits and
 * timeouts"); a change of a default belongs there too.
 */

import { MAX_TIMER_MS } from '../net/deadline-cap.js';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import type { SchemaType } from './schema-type.js';

export { MAX_TIMER_MS };

const nonNegativeInt = { type: 'integer', minimum: 0 } as const;
const timerMs = { type: 'integer', minimum: 0, maximum: MAX_TIMER_MS } as const;

/** The connection defaults (CONFIG_DEFAULTS.connections; the schema fills them in). */
const d = CONFIG_DEFAULTS.connections;

/** `server.connections`: transport limits of the REST front end, and the shared connection cap. */
export const connectionsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    // REST and gRPC connections together; over it new clients get 503 / GOAWAY and are closed.
    max_connections: { ...nonNegativeInt, default: d.maxConnections },
    header_timeout_ms: { ...timerMs, minimum: 1, default: d.headerTimeoutMs },
    // Time to receive a whole request (headers and body) from its first byte; 0 = none.
    body_timeout_ms: { ...timerMs, default: d.bodyTimeoutMs },
    keep_alive_timeout_ms: { ...timerMs, minimum: 1, default: d.keepAliveTimeoutMs },
    // During shutdown, idle keep-alive connections are closed after this quiet period.
    drain_idle_grace_ms: { ...timerMs, default: d.drainIdleGraceMs },
    // Every request deadline (x-request-timeout-ms, grpc-timeout, the default) is clamped to it.
    max_deadline_ms: { ...timerMs, minimum: 1, default: d.maxDeadlineMs },
  },
} as const;

/** `server.grpc`: HTTP/2 connection management of the gRPC front end (grpc-js channel options). */
export const grpcConnectionSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    max_connection_idle_ms: { ...timerMs, default: d.grpcMaxConnectionIdleMs },
    max_connection_age_ms: { ...timerMs, default: d.grpcMaxConnectionAgeMs },
    max_connection_age_grace_ms: { ...timerMs, default: d.grpcMaxConnectionAgeGraceMs },
    keepalive_time_ms: { ...timerMs, default: d.grpcKeepaliveTimeMs },
    keepalive_timeout_ms: { ...timerMs, minimum: 1, default: d.grpcKeepaliveTimeoutMs },
    // Drain: a connection's GOAWAY waits this long at most for a PING round trip.
    drain_notice_ms: { ...timerMs, default: d.grpcDrainNoticeMs },
    // The gRPC port opens the first time the server is ready, not at start (balancers without
    // active health checks, such as open-source nginx, cannot replay a gRPC call).
    listen_when_ready: { type: 'boolean', default: d.grpcListenWhenReady },
  },
} as const;

/** `server.shutdown_delay_ms`: no default in the schema (it depends on drain_timeout_ms). */
export const shutdownDelaySchema = timerMs;

/** gRPC connection management; 0 turns a timer off. */
export interface GrpcConnectionSettings {
  readonly maxConnectionIdleMs: number;
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeGraceMs: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /**
   * Drain: a session's GOAWAY waits for a PING round trip (see ShutdownNotice), at most this
   * many ms; 0 = every GOAWAY at once.
   */
  readonly drainNoticeMs: number;
  /** Bind the gRPC port only once the server is first ready (default: at start, with REST). */
  readonly listenWhenReady: boolean;
}

/** Validated connection settings (see the schema comments); 0 turns a limit off where allowed. */
export interface ConnectionSettings {
  readonly maxConnections: number;
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly drainIdleGraceMs: number;
  readonly maxDeadlineMs: number;
  readonly grpc: GrpcConnectionSettings;
}

/** `server.connections` as validated (the schema has filled in every default). */
export type RawConnections = SchemaType<typeof connectionsSchema>;

/** `server.grpc` as validated. */
export type RawGrpcConnections = SchemaType<typeof grpcConnectionSchema>;

/** Defaults for code that builds a config without the schema (tests, front ends alone). */
export const DEFAULT_CONNECTION_SETTINGS: ConnectionSettings = {
  maxConnections: d.maxConnections,
  headerTimeoutMs: d.headerTimeoutMs,
  bodyTimeoutMs: d.bodyTimeoutMs,
  keepAliveTimeoutMs: d.keepAliveTimeoutMs,
  drainIdleGraceMs: d.drainIdleGraceMs,
  maxDeadlineMs: d.maxDeadlineMs,
  grpc: {
    maxConnectionIdleMs: d.grpcMaxConnectionIdleMs,
    maxConnectionAgeMs: d.grpcMaxConnectionAgeMs,
    maxConnectionAgeGraceMs: d.grpcMaxConnectionAgeGraceMs,
    keepaliveTimeMs: d.grpcKeepaliveTimeMs,
    keepaliveTimeoutMs: d.grpcKeepaliveTimeoutMs,
    drainNoticeMs: d.grpcDrainNoticeMs,
    listenWhenReady: d.grpcListenWhenReady,
  },
};

/** Builds the settings; records a problem when the header timeout exceeds the body timeout. */
export function buildConnections(
  c: RawConnections | undefined,
  g: RawGrpcConnections | undefined,
  problems: string[] = [],
): ConnectionSettings {
  const x = DEFAULT_CONNECTION_SETTINGS;
  if (c !== undefined && c.body_timeout_ms > 0 && c.header_timeout_ms > c.body_timeout_ms) {
    problems.push(
      `server.connections.header_timeout_ms (${c.header_timeout_ms}) must not exceed body_timeout_ms (${c.body_timeout_ms}): the body timeout covers the headers too`,
    );
  }
  return {
    maxConnections: c?.max_connections ?? x.maxConnections,
    headerTimeoutMs: c?.header_timeout_ms ?? x.headerTimeoutMs,
    bodyTimeoutMs: c?.body_timeout_ms ?? x.bodyTimeoutMs,
    keepAliveTimeoutMs: c?.keep_alive_timeout_ms ?? x.keepAliveTimeoutMs,
    drainIdleGraceMs: c?.drain_idle_grace_ms ?? x.drainIdleGraceMs,
    maxDeadlineMs: c?.max_deadline_ms ?? x.maxDeadlineMs,
    grpc: {
      maxConnectionIdleMs: g?.max_connection_idle_ms ?? x.grpc.maxConnectionIdleMs,
      maxConnectionAgeMs: g?.max_connection_age_ms ?? x.grpc.maxConnectionAgeMs,
      maxConnectionAgeGraceMs: g?.max_connection_age_grace_ms ?? x.grpc.maxConnectionAgeGraceMs,
      keepaliveTimeMs: g?.keepalive_time_ms ?? x.grpc.keepaliveTimeMs,
      keepaliveTimeoutMs: g?.keepalive_timeout_ms ?? x.grpc.keepaliveTimeoutMs,
      drainNoticeMs: g?.drain_notice_ms ?? x.grpc.drainNoticeMs,
      listenWhenReady: g?.listen_when_ready ?? x.grpc.listenWhenReady,
    },
  };
}

/**
 * The shutdown delay: as configured, or by default 5 s but at most half the drain timeout, so
 * the drain keeps time to finish requests. Records a problem when an explicit delay leaves the
 * drain no time (the delay counts inside drain_timeout_ms).
 */
export function resolveShutdownDelay(
  delayMs: number | undefined,
  drainTimeoutMs: number,
  problems: string[],
): number {
  if (delayMs === undefined) return Math.min(d.shutdownDelayMs, Math.floor(drainTimeoutMs / 2));
  if (delayMs > 0 && delayMs >= drainTimeoutMs) {
    problems.push(
      `server.shutdown_delay_ms (${delayMs}) must be less than server.drain_timeout_ms (${drainTimeoutMs}): the delay counts inside the drain timeout`,
    );
  }
  return delayMs;
}
