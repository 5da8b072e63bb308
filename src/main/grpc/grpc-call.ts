import * as grpc from '@grpc/grpc-js';
import type { CallerIdentity } from '../../core/caller-identity.js';
import { CallCancel, type CancelSignal } from '../../core/cancel-signal.js';
import { clientError, ServingError } from '../../core/errors.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../logging/request-id.js';
import type { Credentials } from '../tenancy/authenticator.js';

/** What a handler learns about its call besides the request message. */
export interface GrpcCallContext {
  /** Absolute deadline in ms since the epoch, when the client set one. */
  readonly deadline: number | undefined;
  /** Aborted when the client cancels the call or its deadline passes. */
  readonly signal: CancelSignal;
  /** Identity from `authenticate`; undefined when tenancy is off. */
  readonly caller: CallerIdentity | undefined;
  /** The call's `x-request-id` metadata, or a generated id; echoed in the trailers. */
  readonly requestId: string;
}

/**
 * Establishes the caller from a call's credentials. Throws ServingError UNAUTHENTICATED
 * when tenancy is on and they are missing or wrong; returns undefined when tenancy is off.
 */
export type GrpcAuthenticate = (credentials: Credentials) => CallerIdentity | undefined;

/** Called once with the cause of every internal failure, before INTERNAL goes to the client. */
export type InternalErrorHook = (err: unknown, method: string, requestId?: string) => void;

/** One finished unary call, for the access log. Must not throw. */
export interface GrpcCallEnd {
  readonly method: string;
  readonly requestId: string;
  /** grpc status name, e.g. `OK`, `NOT_FOUND`. */
  readonly status: string;
  readonly durationMs: number;
  /** The model named in the request (TF Serving `model_spec.name`, KServe `model_name`). */
  readonly model: string | undefined;
  readonly tenant: string | undefined;
}

function modelOf(request: unknown): string | undefined {
  const r = request as { model_spec?: { name?: unknown }; model_name?: unknown; name?: unknown } | null;
  const name = r?.model_spec?.name ?? r?.model_name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

type AnyServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

function metadataString(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}

/** The credentials a call presents: auth metadata and a verified client certificate's CN. */
export function credentialsOf(call: AnyServerCall): Credentials {
  const cert = call.getAuthContext?.()?.sslPeerCertificate;
  const cn = cert?.subject?.CN;
  return {
    authorization: metadataString(call.metadata, 'authorization'),
    apiKey: metadataString(call.metadata, 'x-api-key'),
    clientCertCN: typeof cn === 'string' && cn !== '' ? cn : undefined,
  };
}

/** Absolute deadline of a call in epoch ms, or undefined when it has none. */
export function deadlineOf(call: AnyServerCall): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Trailing metadata key with the seconds to wait before retrying (REST's `Retry-After`). */
export const RETRY_AFTER_METADATA = 'retry-after';

/**
 * The status a client sees for an error (see `clientError`): client-facing ServingErrors as
 * they are, with a `retry-after` trailer in whole seconds (at least 1) when the error carries a
 * retry hint; anything internal as INTERNAL with a generic message naming the request id,
 * after `onInternalError` has logged its cause.
 */
export function statusOf(
  err: unknown,
  method: string,
  requestId: string,
  onInternalError: InternalErrorHook,
): Partial<grpc.StatusObject> {
  const { error: e, internal } = clientError(err, requestId);
  if (internal !== undefined) onInternalError(internal, method, requestId);
  if (e.retryAfterSeconds === undefined) return { code: e.grpcCode, details: e.message };
  const metadata = new grpc.Metadata();
  metadata.set(RETRY_AFTER_METADATA, String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
  return { code: e.grpcCode, details: e.message, metadata };
}

export interface HandlerEnv {
  readonly authenticate: GrpcAuthenticate | undefined;
  readonly onInternalError: InternalErrorHook;
  /** Called once per unary call when it ends (any status); none when absent. */
  readonly onCallEnd?: (end: GrpcCallEnd) => void;
}

/**
 * A client whose deadline passes resets the stream, which the server sees as 'cancelled' at
 * about its own deadline (computed on arrival, so up to one transit later): a cancel this
 * close to the deadline is the deadline.
 */
const DEADLINE_SLACK_MS = 50;

function contextOf(
  call: AnyServerCall,
  env: HandlerEnv,
  requestId: string,
): { ctx: GrpcCallContext; done: () => void } {
  const cancel = new CallCancel();
  const deadline = deadlineOf(call);
  const onCancel = () =>
    cancel.abort(
      deadline !== undefined && Date.now() >= deadline - DEADLINE_SLACK_MS
        ? new ServingError('DEADLINE_EXCEEDED', 'Deadline exceeded')
        : new ServingError('CANCELLED', 'The client cancelled the call'),
    );
  call.on('cancelled', onCancel);
  // No timer for the deadline: the batch scheduler (one timer per model queue) and the
  // in-flight gate drop the request at `deadline`, and grpc-js cancels the call when the
  // client's deadline passes.
  const caller = env.authenticate?.(credentialsOf(call));
  return {
    ctx: { deadline, signal: cancel, caller, requestId },
    done: () => {
      call.removeListener('cancelled', onCancel);
    },
  };
}

/**
 * Wraps an async handler as a grpc-js unary handler: authenticates, builds the context,
 * and maps a thrown error to its status (see statusOf).
 */
export function unary<Req, Res>(
  method: string,
  env: HandlerEnv,
  fn: (request: Req, ctx: GrpcCallContext) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    const requestId = requestIdFrom(call.metadata.get(REQUEST_ID_HEADER)[0]);
    const trailer = new grpc.Metadata();
    trailer.set(REQUEST_ID_HEADER, requestId);
    let done = () => {};
    let tenant: string | undefined;
    const end = (code: grpc.status) =>
      env.onCallEnd?.({
        method,
        requestId,
        status: grpc.status[code] ?? String(code),
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        model: modelOf(call.request),
        tenant,
      });
    const run = async (): Promise<Res> => {
      const c = contextOf(call as AnyServerCall, env, requestId);
      done = c.done;
      tenant = c.ctx.caller?.tenant;
      return fn(call.request, c.ctx);
    };
    run().then(
      (res) => {
        done();
        callback(null, res, trailer);
        end(grpc.status.OK);
      },
      (err: unknown) => {
        done();
        const status = statusOf(err, method, requestId, env.onInternalError);
        if (status.metadata !== undefined) trailer.merge(status.metadata);
        callback({ ...status, metadata: trailer });
        end(status.code ?? grpc.status.UNKNOWN);
      },
    );
  };
}
