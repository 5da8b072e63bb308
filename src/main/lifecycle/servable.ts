import type { Signature } from '../../core/signature.js';
import type { Platform } from '../../workers/runtime.js';

/** TF Serving's per-version states, with their proto numbers. */
export const VERSION_STATES = {
  UNKNOWN: 0,
  START: 10,
  LOADING: 20,
  AVAILABLE: 30,
  UNLOADING: 40,
  END: 50,
} as const;
export type VersionState = keyof typeof VERSION_STATES;

/** What the status APIs report for one version. */
export interface VersionStatus {
  readonly version: number;
  readonly state: VersionState;
  /** `OK` or the error code of a failed load. */
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** Which version a request asks for: latest available, a number, or a label. */
export type VersionSelector =
  | { readonly kind: 'latest' }
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'label'; readonly label: string };

/**
 * A ref-counted lease on one AVAILABLE model version. While any handle is held the
 * version is not unloaded. `release()` must be called exactly once.
 */
export interface ServableHandle {
  readonly name: string;
  readonly version: number;
  readonly platform: Platform;
  readonly signature: Signature;
  /** Scheduler/pool key of this version, unique across the server. */
  readonly key: string;
  /** On-demand models (acquireResident): `hit` when the version was resident, `miss` when this request waited for its load. */
  readonly residency?: 'hit' | 'miss';
  release(): void;
}
