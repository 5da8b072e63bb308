import { randomUUID } from 'node:crypto';

/** Header (REST) and metadata key (gRPC) carrying a request id in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Printable ASCII without spaces, at most 128 characters: safe to echo and to log. */
const ACCEPTABLE = /^[\x21-\x7e]{1,128}$/;

/**
 * The id of a request: the client's `x-request-id` when it sent an acceptable one (so ids
 * follow a call across services), else a fresh UUID.
 */
export function requestIdFrom(given: unknown): string {
  const value = Array.isArray(given) ? given[0] : given;
  if (typeof value === 'string' && ACCEPTABLE.test(value)) return value;
  if (Buffer.isBuffer(value)) return requestIdFrom(value.toString('latin1'));
  return randomUUID();
}
