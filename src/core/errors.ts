/**
 * One error class for the whole server, with a closed set of codes: the canonical gRPC
 * status codes, which TF Serving's `tensorflow.error.Code` and KServe share. One table maps
 * each code to its gRPC number and its HTTP status; front ends never choose statuses
 * themselves.
 *
 * `message` is what the client sees. Internal detail belongs in `cause`, which is logged
 * and never sent.
 */
export const ERROR_CODES = {
  OK: { grpc: 0, http: 200 },
  CANCELLED: { grpc: 1, http: 499 },
  UNKNOWN: { grpc: 2, http: 500 },
  INVALID_ARGUMENT: { grpc: 3, http: 400 },
  DEADLINE_EXCEEDED: { grpc: 4, http: 504 },
  NOT_FOUND: { grpc: 5, http: 404 },
  ALREADY_EXISTS: { grpc: 6, http: 409 },
  PERMISSION_DENIED: { grpc: 7, http: 403 },
  RESOURCE_EXHAUSTED: { grpc: 8, http: 429 },
  FAILED_PRECONDITION: { grpc: 9, http: 400 },
  ABORTED: { grpc: 10, http: 409 },
  OUT_OF_RANGE: { grpc: 11, http: 400 },
  UNIMPLEMENTED: { grpc: 12, http: 501 },
  INTERNAL: { grpc: 13, http: 500 },
  UNAVAILABLE: { grpc: 14, http: 503 },
  DATA_LOSS: { grpc: 15, http: 500 },
  UNAUTHENTICATED: { grpc: 16, http: 401 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Longest message sent to a client; TF Serving truncates at 1024 characters too. */
export const MAX_CLIENT_MESSAGE = 1024;

export interface ServingErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (REST `Retry-After`, gRPC `retry-after` trailer). */
  retryAfterSeconds?: number;
  /** Retrying the same operation cannot succeed (e.g. a full memory budget): loaders do not retry it. */
  permanent?: boolean;
}

export class ServingError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  /** See ServingErrorOptions.permanent; false unless set. */
  readonly permanent: boolean;

  constructor(code: ErrorCode, message: string, options: ServingErrorOptions = {}) {
    super(message.length > MAX_CLIENT_MESSAGE ? `${message.slice(0, MAX_CLIENT_MESSAGE - 3)}...` : message, {
      cause: options.cause,
    });
    this.name = 'ServingError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.permanent = options.permanent ?? false;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get grpcCode(): number {
    return ERROR_CODES[this.code].grpc;
  }

  /**
   * Converts anything thrown into a ServingError. ServingErrors pass through; everything
   * else becomes INTERNAL with a generic message, the original kept as `cause`.
   */
  static from(err: unknown): ServingError {
    if (err instanceof ServingError) return err;
    if (isServingErrorLike(err)) {
      // Plain copies from worker threads keep their `permanent` mark (load errors).
      const permanent = (err as { permanent?: unknown }).permanent === true;
      return new ServingError(err.code, err.message, { cause: err, permanent });
    }
    return new ServingError('INTERNAL', INTERNAL_MESSAGE, { cause: err });
  }
}

/** What a client reads for every internal failure, before the request id. */
export const INTERNAL_MESSAGE = 'Internal error';

/**
 * Codes whose message is internal detail (a runtime's text, a file path, a bug): a client
 * never reads it (see clientError).
 */
const INTERNAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INTERNAL', 'UNKNOWN', 'DATA_LOSS']);

/** The error a front end sends for a failed call, and whether it hides an internal failure. */
export interface ClientError {
  /** What the client sees: code, message and retry hint. */
  readonly error: ServingError;
  /**
   * The internal failure behind a generic INTERNAL answer, for the front end to log once;
   * undefined when the error was meant for the client.
   */
  readonly internal: unknown;
}

/**
 * The one rule for what a client may read of an error. A ServingError with a client-facing
 * code passes as it is; anything else (a plain Error, or an INTERNAL, UNKNOWN or DATA_LOSS
 * ServingError, whose message may carry a runtime's text) becomes INTERNAL with the generic
 * message `Internal error (request id <id>)`, the original kept in `cause` and returned as
 * `internal` so the caller logs it under the same id. Never throws.
 */
export function clientError(err: unknown, requestId: string): ClientError {
  const e = err instanceof ServingError || isServingErrorLike(err) ? ServingError.from(err) : undefined;
  if (e !== undefined && !INTERNAL_CODES.has(e.code)) return { error: e, internal: undefined };
  const internal = e !== undefined && e.cause !== undefined && e.message === INTERNAL_MESSAGE ? e.cause : err;
  return {
    error: new ServingError('INTERNAL', `${INTERNAL_MESSAGE} (request id ${requestId})`, { cause: internal }),
    internal,
  };
}

/** Errors cross worker threads as plain objects; this recognizes their shape. */
export function isServingErrorLike(err: unknown): err is { code: ErrorCode; message: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code in ERROR_CODES &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** HTTP status for a code (the table above). */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].http;
}

/** gRPC status number for a code. */
export function grpcCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].grpc;
}

/** Code name for a gRPC status number, e.g. 14 → UNAVAILABLE. */
export function codeOfGrpc(n: number): ErrorCode {
  for (const [name, v] of Object.entries(ERROR_CODES)) if (v.grpc === n) return name as ErrorCode;
  return 'UNKNOWN';
}
