import { ServingError } from './errors.js';
import type { VersionSelector } from './version-selector.js';

/*
 * TF Serving's texts for a request naming no servable, in one place: the lifecycle manager
 * raises them for models it does not have, tenancy for models the caller may not see (the
 * same texts, so a tenant cannot probe for other tenants' models).
 */

/** `Latest(name)` / `Specific(name, 5)`: TF Serving's ServableRequest debug string. */
export function describeRequest(name: string, version: number | undefined): string {
  return version === undefined ? `Latest(${name})` : `Specific(${name}, ${version})`;
}

/** NOT_FOUND for a model or version that is not served; `label` when a label led to `version`. */
export function servableNotFound(name: string, version: number | undefined, label?: string): ServingError {
  const suffix = label === undefined ? '' : ` (version label ${label})`;
  return new ServingError(
    'NOT_FOUND',
    `Servable not found for request: ${describeRequest(name, version)}${suffix}`,
  );
}

/** INVALID_ARGUMENT for a version label the model does not have. */
export function unknownLabel(label: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', `Unrecognized servable version label: ${label}`);
}

/** The error for a request naming `name` with `selector` when no such model exists. */
export function notFoundFor(name: string, selector: VersionSelector | undefined): ServingError {
  switch (selector?.kind) {
    case 'version':
      return servableNotFound(name, selector.version);
    case 'label':
      return unknownLabel(selector.label);
    default:
      return servableNotFound(name, undefined);
  }
}
