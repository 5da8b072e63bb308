import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallerIdentity } from '../../core/caller-identity.js';
import { CallCancel, type CancelSignal } from '../../core/cancel-signal.js';
import { clientError, ServingError } from '../../core/errors.js';
import { clampTimeout, MAX_TIMER_MS } from '../net/deadline-cap.js';
import type { ArrivalPass } from '../tenancy/admission.js';
import type { Credentials } from '../tenancy/authenticator.js';

/** Per-request values a route handler needs beside the body. */
export interface CallContext {
  readonly caller: CallerIdentity | undefined;
  /** The tenant admission made on arrival (see `Arrival`), for `PredictCall.arrival`. */
  readonly arrival: ArrivalPass | undefined;
  readonly deadline: number | undefined;
  readonly signal: CancelSignal;
}

/** Header carrying a per-request deadline in milliseconds (overrides the server default). */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';

/**
 * Builds the call context: the deadline (header or server default, clamped to
 * `maxDeadlineMs`) and a CancelSignal that fires when the client's connection closes, so
 * queued work of a client that went away is dropped. The signal is the connection's
 * (`connectionSignal`), shared by the requests it carries, so a request costs no
 * AbortController and no close listener of its own; answered requests have removed their
 * listeners by then, so only unanswered ones see it fire.
 */
export function callContext(
  request: FastifyRequest,
  reply: FastifyReply,
  defaultTimeoutMs: number,
  caller: CallerIdentity | undefined,
  maxDeadlineMs = MAX_TIMER_MS,
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
  // Clamped: Node fires a timer of 2^31 ms or more at once (a huge deadline would expire).
  timeoutMs = clampTimeout(timeoutMs, maxDeadlineMs);
  return {
    caller,
    arrival: arrivals.get(request)?.pass,
    deadline: timeoutMs > 0 ? Date.now() + timeoutMs : undefined,
    signal: connectionSignal(reply.raw.socket ?? request.raw.socket),
  };
}

const connectionAborts = new WeakMap<object, CallCancel>();

/**
 * The CancelSignal of one client connection: aborted when the socket closes (the client went
 * away, or the server ended the connection). Created on the connection's first inference
 * request; a request arriving without a socket gets a signal that never fires.
 */
export function connectionSignal(socket: Socket | null): CancelSignal {
  if (socket === null) return new CallCancel();
  let signal = connectionAborts.get(socket);
  if (signal === undefined) {
    const created = new CallCancel();
    if (socket.destroyed) created.abort(undefined);
    else socket.once('close', () => created.abort(undefined));
    connectionAborts.set(socket, created);
    signal = created;
  }
  return signal;
}

/**
 * What the arrival hook (arrival-admission.ts) decided for an inference request before its
 * body was read: who the caller is and the admission pass the core redeems.
 */
export interface Arrival {
  readonly caller: CallerIdentity | undefined;
  readonly pass: ArrivalPass;
}

const arrivals = new WeakMap<FastifyRequest, Arrival>();

/** Records the arrival decision on the request; called by the arrival hook only. */
export function noteArrival(request: FastifyRequest, arrival: Arrival): void {
  arrivals.set(request, arrival);
}

/**
 * `authenticate` run at most once per request: its result (or its error, thrown again) is
 * kept with the request's headers object, so the arrival hook, the route and the sampled
 * access line share one authentication. buildRestApp wraps the server's authenticate in it.
 */
export function authenticateOnce(
  authenticate: (headers: IncomingHttpHeaders) => CallerIdentity | undefined,
): (headers: IncomingHttpHeaders) => CallerIdentity | undefined {
  const seen = new WeakMap<
    IncomingHttpHeaders,
    { caller: CallerIdentity | undefined } | { error: unknown }
  >();
  return (headers) => {
    const known = seen.get(headers);
    if (known !== undefined) {
      if ('error' in known) throw known.error;
      return known.caller;
    }
    try {
      const caller = authenticate(headers);
      seen.set(headers, { caller });
      return caller;
    } catch (error) {
      seen.set(headers, { error });
      throw error;
    }
  };
}

/**
 * The caller of a request: the one the arrival hook authenticated, else (routes it does not
 * cover, tenancy off) `authenticate` now. Throws as `authenticate`.
 */
export function callerOf(
  request: FastifyRequest,
  authenticate: (headers: IncomingHttpHeaders) => CallerIdentity | undefined,
): CallerIdentity | undefined {
  const arrival = arrivals.get(request);
  return arrival === undefined ? authenticate(request.headers) : arrival.caller;
}

/** Refuses a caller that is not an admin (tenancy on); tenancy off (no caller) passes. */
export function requireAdmin(caller: CallerIdentity | undefined): void {
  if (caller && !caller.admin) throw new ServingError('PERMISSION_DENIED', 'This API needs an admin key');
}

/**
 * Sends an error as `{"error": "..."}` with the status from the code table. What the client
 * reads follows `clientError`: an internal failure is logged here, once, under the request id,
 * and answered with a generic INTERNAL message naming that id.
 */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const { error: e, internal } = clientError(err, String(reply.request.id));
  if (internal !== undefined) reply.log.error({ err: internal }, 'request failed');
  if (e.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
  return reply
    .code(e.httpStatus)
    .type('application/json')
    .send(JSON.stringify({ error: e.message }));
}

/**
 * Key under which the REST server puts the CN of a client certificate the TLS layer verified
 * (mutual TLS) on the request's headers object. A symbol, so no client can send it.
 */
export const PEER_CERT_CN: unique symbol = Symbol('tensorserve.peerCertCN');

/** Records a verified client certificate's CN on the request (call from an onRequest hook). */
export function notePeerCertificate(request: FastifyRequest): void {
  const socket = request.raw.socket as TLSSocket;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return;
  const cn: unknown = socket.getPeerCertificate()?.subject?.CN;
  const value = Array.isArray(cn) ? cn[0] : cn;
  if (typeof value === 'string' && value !== '') {
    (request.raw.headers as Record<symbol, unknown>)[PEER_CERT_CN] = value;
  }
}

/** What a REST request presents: `authorization`, `x-api-key` and a verified client certificate's CN. */
export function credentialsFromHeaders(headers: IncomingHttpHeaders): Credentials {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const cn = (headers as Record<symbol, unknown>)[PEER_CERT_CN];
  return {
    authorization: one(headers.authorization),
    apiKey: one(headers['x-api-key']),
    clientCertCN: typeof cn === 'string' ? cn : undefined,
  };
}
