import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wantedVersions } from '../../../src/main/lifecycle/version-policy.js';

describe('wantedVersions', () => {
  it('latest N keeps the N highest versions, with gaps', () => {
    assert.deepEqual(wantedVersions({ kind: 'latest', numVersions: 1 }, [3, 1, 7, 4]), [7]);
    assert.deepEqual(wantedVersions({ kind: 'latest', numVersions: 2 }, [3, 1, 7, 4]), [4, 7]);
    assert.deepEqual(wantedVersions({ kind: 'latest', numVersions: 10 }, [3, 1]), [1, 3]);
  });

  it('latest of nothing is nothing; latest 0 wants nothing', () => {
    assert.deepEqual(wantedVersions({ kind: 'latest', numVersions: 1 }, []), []);
    assert.deepEqual(wantedVersions({ kind: 'latest', numVersions: 0 }, [1, 2]), []);
  });

  it('all keeps every version, ascending and deduplicated', () => {
    assert.deepEqual(wantedVersions({ kind: 'all' }, [10, 2, 5, 2]), [2, 5, 10]);
    assert.deepEqual(wantedVersions({ kind: 'all' }, []), []);
  });

  it('specific keeps only listed versions that exist', () => {
    assert.deepEqual(wantedVersions({ kind: 'specific', versions: [2, 9, 4] }, [1, 2, 3, 4]), [2, 4]);
    assert.deepEqual(wantedVersions({ kind: 'specific', versions: [9] }, [1, 2]), []);
    assert.deepEqual(wantedVersions({ kind: 'specific', versions: [] }, [1, 2]), []);
  });
});
