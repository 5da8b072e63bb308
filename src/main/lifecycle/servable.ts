import type { Platform } from '../../core/platform.js';
import type { Signature } from '../../core/signature.js';
import type { ServingPlan } from './serving-plan.js';

/**
 * A ref-counted lease on one AVAILABLE model version. While any handle is held the
 * version is not unloaded. `release()` must be called exactly once.
 */
export interface ServableHandle {
  readonly name: string;
  readonly version: number;
  readonly platform: Platform;
  readonly signature: Signature;
  /** What serving this version needs, computed once when it loaded (see ServingPlan). */
  readonly plan: ServingPlan;
  /** Scheduler/pool key of this version, unique across the server. */
  readonly key: string;
  /** On-demand models (acquireResident): `hit` when the version was resident, `miss` when this request waited for its load. */
  readonly residency?: 'hit' | 'miss';
  release(): void;
}
