import type { IncomingHttpHeaders } from 'node:http';
import type { RequestLimits } from '../config/server-config.js';
import type { CallerIdentity } from '../serving/inference-core.js';

/** Settings shared by every REST route. */
export interface RestOptions {
  readonly limits: RequestLimits;
  readonly defaultRequestTimeoutMs: number;
  /**
   * Establishes the caller from request headers; throws ServingError UNAUTHENTICATED when
   * tenancy is on and the credentials are missing or wrong. Returns undefined when off.
   */
  readonly authenticate: (headers: IncomingHttpHeaders) => CallerIdentity | undefined;
}
