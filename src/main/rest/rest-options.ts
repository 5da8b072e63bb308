import type { IncomingHttpHeaders } from 'node:http';
import type { CallerIdentity } from '../../core/caller-identity.js';
import type { RequestLimits } from '../config/server-config.js';

/** Settings shared by every REST route. */
export interface RestOptions {
  readonly limits: RequestLimits;
  readonly defaultRequestTimeoutMs: number;
  /**
   * Every request deadline (x-request-timeout-ms or the default) is clamped to this many ms
   * (server.connections.max_deadline_ms); default: the largest delay Node's timers honour.
   */
  readonly maxDeadlineMs?: number;
  /**
   * Establishes the caller from request headers; throws ServingError UNAUTHENTICATED when
   * tenancy is on and the credentials are missing or wrong. Returns undefined when off.
   */
  readonly authenticate: (headers: IncomingHttpHeaders) => CallerIdentity | undefined;
}
