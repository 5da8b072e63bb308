import * as grpc from '@grpc/grpc-js';
import { isServingErrorLike, ServingError } from '../../core/errors.js';
import type { CallerIdentity } from '../inference-core.js';
import type { Credentials } from '../tenancy/authenticator.js';

/** What a handler learns about its call besides the request message. */
export interface GrpcCallContext {
  /** Absolute deadline in ms since the epoch, when the client set one. */
  readonly deadline: number | undefined;
  /** Aborted when the client cancels the call or its deadline passes. */
  readonly signal: AbortSignal;
  /** Identity from `authenticate`; undefined when tenancy is off. */
  readonly caller: CallerIdentity | undefined;
}

/**
 * Establishes the caller from a call's credentials. Throws ServingError UNAUTHENTICATED
 * when tenancy is on and they are missing or wrong; returns undefined when tenancy is off.
 */
export type GrpcAuthenticate = (credentials: Credentials) => CallerIdentity | undefined;

/** Called with every error that is not a ServingError, before INTERNAL goes to the client. */
export type InternalErrorHook = (err: unknown, method: string) => void;

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
 * The status a client sees for an error: ServingErrors as they are (with a `retry-after`
 * trailer in whole seconds, at least 1, when the error carries a retry hint), anything else INTERNAL.
 */
export function statusOf(
  err: unknown,
  method: string,
  onInternalError: InternalErrorHook,
): Partial<grpc.StatusObject> {
  if (err instanceof ServingError || isServingErrorLike(err)) {
    const e = ServingError.from(err);
    if (e.retryAfterSeconds === undefined) return { code: e.grpcCode, details: e.message };
    const metadata = new grpc.Metadata();
    metadata.set(RETRY_AFTER_METADATA, String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
    return { code: e.grpcCode, details: e.message, metadata };
  }
  onInternalError(err, method);
  return { code: grpc.status.INTERNAL, details: 'Internal error' };
}

export interface HandlerEnv {
  readonly authenticate: GrpcAuthenticate | undefined;
  readonly onInternalError: InternalErrorHook;
}

function contextOf(call: AnyServerCall, env: HandlerEnv): { ctx: GrpcCallContext; done: () => void } {
  const controller = new AbortController();
  const onCancel = () => controller.abort(new ServingError('CANCELLED', 'The client cancelled the call'));
  call.on('cancelled', onCancel);
  const deadline = deadlineOf(call);
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    timer = setTimeout(
      () => controller.abort(new ServingError('DEADLINE_EXCEEDED', 'Deadline exceeded')),
      Math.max(0, deadline - Date.now()),
    );
    timer.unref();
  }
  const caller = env.authenticate?.(credentialsOf(call));
  return {
    ctx: { deadline, signal: controller.signal, caller },
    done: () => {
      if (timer) clearTimeout(timer);
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
    let done = () => {};
    const run = async (): Promise<Res> => {
      const c = contextOf(call as AnyServerCall, env);
      done = c.done;
      return fn(call.request, c.ctx);
    };
    run().then(
      (res) => {
        done();
        callback(null, res);
      },
      (err: unknown) => {
        done();
        callback(statusOf(err, method, env.onInternalError));
      },
    );
  };
}
