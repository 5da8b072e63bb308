import { ServingError } from '../../core/errors.js';
import { unknownLabel } from '../../core/servable-errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import type { VersionStatus } from '../../core/version-status.js';

/**
 * TF Serving's request-resolution rules and error messages, in one place so the manager
 * and its tests agree on them exactly.
 */

/**
 * UNAVAILABLE for a model (or version) that is configured but still loading: the client
 * should retry, unlike NOT_FOUND.
 */
export function servableLoading(name: string, version: number | undefined): ServingError {
  const what = version === undefined ? `model ${name}` : `version ${version} of model ${name}`;
  return new ServingError('UNAVAILABLE', `The ${what} is loading; retry later`, { retryAfterSeconds: 1 });
}

/** A model's labels in effect: label → version. */
export type LabelMap = Readonly<Record<string, number>>;

/**
 * The version a label maps to in `labels` (undefined: a model not in the model list).
 * Like TF Serving, an unknown label (also on an unknown model) is INVALID_ARGUMENT,
 * checked before the model's existence.
 */
export function labelVersion(labels: LabelMap | undefined, label: string): number {
  if (labels === undefined || !Object.hasOwn(labels, label)) throw unknownLabel(label);
  return labels[label];
}

/** TF Serving's FAILED_PRECONDITION for a label assigned to a version not AVAILABLE. */
export function labelNotAvailable(name: string, label: string, version: number): ServingError {
  return new ServingError(
    'FAILED_PRECONDITION',
    `Request to assign label '${label}' to version ${version} of model ${name}, which is not currently available for inference`,
  );
}

/**
 * Filters a model's statuses (highest first) for a status request. `latest` (no version
 * in the request) means every version, as in TF Serving's GetModelStatus.
 */
export function selectStatuses(
  name: string,
  labels: LabelMap | undefined,
  all: readonly VersionStatus[],
  selector: VersionSelector | undefined,
  detail: string | undefined,
): VersionStatus[] {
  const version =
    selector?.kind === 'label'
      ? labelVersion(labels, selector.label)
      : selector?.kind === 'version'
        ? selector.version
        : undefined;
  if (all.length === 0) {
    const why = detail === undefined ? '' : ` (${detail})`;
    throw new ServingError('NOT_FOUND', `Could not find any versions of model ${name}${why}`);
  }
  if (version === undefined) return [...all];
  const found = all.filter((s) => s.version === version);
  if (found.length === 0)
    throw new ServingError('NOT_FOUND', `Could not find version ${version} of model ${name}`);
  return found;
}
