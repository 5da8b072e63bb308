import { NUL_TRUNCATING_PLATFORMS } from '../../core/input-validation.js';
import type { Platform } from '../../core/platform.js';
import type { Signature } from '../../core/signature.js';
import { hasIntegerInputs } from '../codecs/tfs-predict-request.js';

/**
 * What serving a request needs from a loaded version beyond its signature, worked out once
 * when the version becomes AVAILABLE and carried on every ServableHandle of it, so no
 * request recomputes it. Read-only: a handle shares its version's plan.
 */
export interface ServingPlan {
  /** Some input has an integer dtype: TF Serving JSON must be read with exact numbers (`1.0` refused, int64 exact). */
  readonly exactJsonNumbers: boolean;
  /**
   * String inputs must be checked for NUL bytes: the runtime cuts strings at the first NUL
   * (NUL_TRUNCATING_PLATFORMS) and the signature has a string input.
   */
  readonly checkNulStrings: boolean;
  /** Every output name in signature order: what a request without an output filter gets. */
  readonly outputNames: readonly string[];
}

/** The plan of a version of `platform` with `signature`. */
export function servingPlan(platform: Platform, signature: Signature): ServingPlan {
  return Object.freeze({
    exactJsonNumbers: hasIntegerInputs(signature),
    checkNulStrings:
      NUL_TRUNCATING_PLATFORMS.has(platform) && signature.inputs.some((s) => s.dtype === 'string'),
    outputNames: Object.freeze(signature.outputs.map((s) => s.name)),
  });
}
