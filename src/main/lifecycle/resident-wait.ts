import type { CancelSignal } from '../../core/cancel-signal.js';
import { ServingError } from '../../core/errors.js';
import type { ModelVersions, VersionChangeEvent } from './model-versions.js';

/** How long a request may wait for a cold load. */
export interface ColdStartBounds {
  /** The request's absolute deadline, ms since the epoch (Date.now() scale). */
  readonly deadline?: number;
  /** Aborted when the client goes away. */
  readonly signal?: CancelSignal;
}

/**
 * Waits until `version` of an on-demand model is AVAILABLE (resolves) or its load failed
 * (rejects with the load error), bounded by the request's deadline (DEADLINE_EXCEEDED), the
 * model's `cold_start_timeout_ms` (UNAVAILABLE, retry later: the load goes on) and the
 * client going away (CANCELLED). Giving up never cancels the load: it completes, shared by
 * the next requests, and is evictable like any idle version, so nothing leaks.
 * `subscribe` is the manager's onChange.
 */
export function waitForResident(
  model: ModelVersions,
  version: number,
  coldStartTimeoutMs: number,
  bounds: ColdStartBounds,
  subscribe: (listener: (event: VersionChangeEvent) => void) => () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const untilDeadline =
      bounds.deadline === undefined ? Number.POSITIVE_INFINITY : bounds.deadline - Date.now();
    const byDeadline = untilDeadline <= coldStartTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unsubscribe = () => {};
    const onAbort = () => finish(new ServingError('CANCELLED', 'The client cancelled the request'));
    const finish = (err?: ServingError) => {
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe();
      bounds.signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const check = (): boolean => {
      const state = model.versionState(version);
      if (state === 'available') finish();
      else if (state === 'error') finish(model.versionError(version) ?? loadFailed(model.name, version));
      else return false;
      return true;
    };
    if (check()) return;
    if (bounds.signal?.aborted) return onAbort();
    const waitMs = Math.max(0, Math.min(untilDeadline, coldStartTimeoutMs));
    timer = setTimeout(() => {
      finish(
        byDeadline
          ? new ServingError(
              'DEADLINE_EXCEEDED',
              `Deadline exceeded while model ${model.name} version ${version} was loading (cold start)`,
            )
          : new ServingError(
              'UNAVAILABLE',
              `Model ${model.name} version ${version} is loading (cold start longer than cold_start_timeout_ms ${coldStartTimeoutMs}); retry later`,
              { retryAfterSeconds: 1 },
            ),
      );
    }, waitMs);
    bounds.signal?.addEventListener('abort', onAbort, { once: true });
    unsubscribe = subscribe((event) => {
      if (event.model === model.name && event.version === version) check();
    });
  });
}

function loadFailed(model: string, version: number): ServingError {
  return new ServingError('UNAVAILABLE', `Model ${model} version ${version} failed to load`);
}
