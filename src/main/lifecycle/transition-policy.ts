import type { VersionState } from '../../core/version-status.js';
import type { TransitionPolicyName } from '../config/model-config.js';

/** What a transition policy sees of one version of a model. */
export interface VersionSnapshot {
  readonly version: number;
  readonly state: VersionState;
  /** Whether the version policy wants it served now. */
  readonly wanted: boolean;
}

/** The next step for one model: start loading a START version, or start unloading an AVAILABLE one. */
export type TransitionAction = { readonly kind: 'load' | 'unload'; readonly version: number };

/**
 * TF Serving's AspiredVersionPolicy: pure, stateless, one action per call. The manager
 * applies the action and asks again until the answer is `undefined`.
 */
export type TransitionPolicy = (versions: readonly VersionSnapshot[]) => TransitionAction | undefined;

/**
 * Load new versions before unloading old ones. An unwanted AVAILABLE version is unloaded
 * only when the model wants nothing at all, or a wanted version is AVAILABLE, or another
 * unwanted version is still AVAILABLE (lowest first): the last serving version is never
 * dropped while the wanted ones are loading or have failed. Loads the highest new wanted
 * version first; all new wanted versions load without waiting for each other.
 */
export const availabilityPreserving: TransitionPolicy = (versions) => {
  const hasWanted = versions.some((v) => v.wanted);
  const wantedServing = versions.some((v) => v.wanted && v.state === 'AVAILABLE');
  const unwantedServing = versions.filter((v) => !v.wanted && v.state === 'AVAILABLE');
  if (!hasWanted || wantedServing || unwantedServing.length > 1) {
    const lowest = lowestVersion(unwantedServing);
    if (lowest !== undefined) return { kind: 'unload', version: lowest };
  }
  const next = highestVersion(versions.filter((v) => v.wanted && v.state === 'START'));
  return next === undefined ? undefined : { kind: 'load', version: next };
};

/**
 * Unload first, then load: frees an unwanted version's resources before loading a new
 * one, and loads only while no version is loading or unloading. Serving gaps are accepted.
 */
export const resourcePreserving: TransitionPolicy = (versions) => {
  const unwanted = lowestVersion(versions.filter((v) => !v.wanted && v.state === 'AVAILABLE'));
  if (unwanted !== undefined) return { kind: 'unload', version: unwanted };
  if (versions.some((v) => v.state === 'LOADING' || v.state === 'UNLOADING')) return undefined;
  const next = highestVersion(versions.filter((v) => v.wanted && v.state === 'START'));
  return next === undefined ? undefined : { kind: 'load', version: next };
};

export const TRANSITION_POLICIES: Readonly<Record<TransitionPolicyName, TransitionPolicy>> = {
  'availability-preserving': availabilityPreserving,
  'resource-preserving': resourcePreserving,
};

function lowestVersion(versions: readonly VersionSnapshot[]): number | undefined {
  return versions.length === 0 ? undefined : Math.min(...versions.map((v) => v.version));
}

function highestVersion(versions: readonly VersionSnapshot[]): number | undefined {
  return versions.length === 0 ? undefined : Math.max(...versions.map((v) => v.version));
}
