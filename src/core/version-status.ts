/*
 * The per-version states the lifecycle manager publishes and every status API reports
 * (TF Serving's GetModelStatus, KServe readiness, the metrics), shared by the layers that
 * produce and encode them.
 */

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
