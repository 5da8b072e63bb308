import { MAX_TIMER_MS, safeDelay } from '../../core/clock.js';

export { MAX_TIMER_MS, safeDelay };

/** A request timeout clamped to `maxMs` (server.connections.max_deadline_ms) and to what timers honour. */
export function clampTimeout(ms: number, maxMs: number): number {
  return Math.min(safeDelay(ms), safeDelay(maxMs));
}

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const GRPC_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/**
 * A `grpc-timeout` header value clamped to `maxMs`: grpc-js converts the header to a 32-bit
 * integer of milliseconds, so a value of about 25 days or more wraps and the call expires at
 * once. Returns the value unchanged when it is within the cap or malformed (grpc-js then
 * answers it as it does).
 */
export function clampGrpcTimeout(value: string, maxMs: number): string {
  const m = GRPC_TIMEOUT.exec(value);
  if (m === null) return value;
  const ms = Number(m[1]) * GRPC_UNIT_MS[m[2]];
  const cap = safeDelay(maxMs);
  if (ms <= cap) return value;
  // At most 8 digits: express the cap in the smallest unit that fits.
  return cap <= 99_999_999 ? `${Math.floor(cap)}m` : `${Math.floor(cap / 1000)}S`;
}
