import type { VersionPolicy } from '../config/model-config.js';

/**
 * TF Serving's ServableVersionPolicy, pure: which of the versions present on disk should
 * be served. `latest`: the `numVersions` highest; `all`: every one; `specific`: those
 * listed that exist (listed versions absent from disk are simply not wanted yet).
 * Returns versions ascending, without duplicates.
 */
export function wantedVersions(policy: VersionPolicy, present: readonly number[]): number[] {
  const sorted = [...new Set(present)].sort((a, b) => a - b);
  switch (policy.kind) {
    case 'latest':
      return policy.numVersions > 0 ? sorted.slice(-policy.numVersions) : [];
    case 'all':
      return sorted;
    case 'specific': {
      const listed = new Set(policy.versions);
      return sorted.filter((v) => listed.has(v));
    }
  }
}
