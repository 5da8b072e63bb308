import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServingError } from '../../core/errors.js';
import type { CallerIdentity } from '../inference-core.js';

/** Per-request values a route handler needs beside the body. */
export interface CallContext {
  readonly caller: CallerIdentity | undefined;
  readonly deadline: number | undefined;
  readonly signal: AbortSignal;
}

/** Header carrying a per-request deadline in milliseconds (overrides the server default). */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';

/**
 * Builds the call context: the deadline (header or server default) and an AbortSignal that
 * fires when the client disconnects before the response is written, so queued work is dropped.
 */
export function callContext(
  request: FastifyRequest,
  reply: FastifyReply,
  defaultTimeoutMs: number,
  caller: CallerIdentity | undefined,
): CallContext {
  const raw = request.headers[TIMEOUT_HEADER];
  let timeoutMs = defaultTimeoutMs;
  if (raw !== undefined) {
    const n = Number(Array.isArray(raw) ? raw[0] : raw);
    if (!Number.isFinite(n) || n <= 0) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Header ${TIMEOUT_HEADER} must be a positive number of milliseconds`,
      );
    }
    timeoutMs = n;
  }
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return {
    caller,
    deadline: timeoutMs > 0 ? Date.now() + timeoutMs : undefined,
    signal: controller.signal,
  };
}

/** Sends a ServingError as `{"error": "..."}` with the status from the code table. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const e = ServingError.from(err);
  if (e.code === 'INTERNAL' || e.code === 'UNKNOWN') reply.log.error({ err: e.cause ?? e }, 'request failed');
  if (e.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
  return reply
    .code(e.httpStatus)
    .type('application/json')
    .send(JSON.stringify({ error: e.message }));
}
