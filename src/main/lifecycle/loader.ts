import { errorMessage, isServingErrorLike, ServingError } from '../../core/errors.js';
import type { Platform } from '../../core/platform.js';
import type { Signature } from '../../core/signature.js';
import type { ModelConfig } from '../config/model-config.js';

/** What a successful load hands back to the manager; becomes part of every ServableHandle. */
export interface LoadedVersion {
  /** Scheduler/pool key of this version, unique across the server (also across reloads). */
  readonly key: string;
  readonly platform: Platform;
  readonly signature: Signature;
  /** Memory the loaded version holds, in bytes: measured when known, else the estimate. */
  readonly memoryBytes: number;
  /** Estimated before loading (weights size times instances), when the loader estimates. */
  readonly estimatedBytes?: number;
  /** Measured after loading; undefined when the runtime cannot measure it. */
  readonly measuredBytes?: number;
}

/**
 * Turns a version directory into a servable version and back (TF Serving's Loader).
 * Called only by the lifecycle (one LoaderHarness per version): `load` at most once at a
 * time per version, retried by the harness after a failure; `unload` exactly once per
 * successful `load`, only after every ServableHandle of that version was released.
 *
 * Errors: reject with a ServingError to choose the code shown in the version's status
 * (e.g. RESOURCE_EXHAUSTED for a full memory budget); anything else is reported as UNKNOWN
 * with its message. A ServingError marked `permanent` is not retried.
 */
export interface VersionLoader {
  load(model: ModelConfig, version: number, versionDir: string): Promise<LoadedVersion>;
  unload(model: ModelConfig, version: number, loaded: LoadedVersion): Promise<void>;
}

/**
 * Converts a loader failure into the error kept in a version's status: ServingErrors (and
 * their plain-object copies from worker threads) keep their code; anything else becomes
 * UNKNOWN with the original message, which is what TF Serving shows for a failed load.
 */
export function loadError(err: unknown): ServingError {
  if (err instanceof ServingError || isServingErrorLike(err)) return ServingError.from(err);
  return new ServingError('UNKNOWN', errorMessage(err), { cause: err });
}
