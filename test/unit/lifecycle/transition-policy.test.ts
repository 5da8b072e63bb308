import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VersionState } from '../../../src/core/version-status.js';
import {
  availabilityPreserving,
  resourcePreserving,
  type VersionSnapshot,
} from '../../../src/main/lifecycle/transition-policy.js';

const v = (version: number, state: VersionState, wanted: boolean): VersionSnapshot => ({
  version,
  state,
  wanted,
});

describe('availabilityPreserving', () => {
  it('loads a new wanted version before unloading the old one', () => {
    assert.deepEqual(availabilityPreserving([v(1, 'AVAILABLE', false), v(2, 'START', true)]), {
      kind: 'load',
      version: 2,
    });
  });

  it('keeps the old version while the new one loads or has failed', () => {
    assert.equal(availabilityPreserving([v(1, 'AVAILABLE', false), v(2, 'LOADING', true)]), undefined);
    assert.equal(availabilityPreserving([v(1, 'AVAILABLE', false), v(2, 'END', true)]), undefined);
  });

  it('unloads the old version once a wanted one is AVAILABLE', () => {
    assert.deepEqual(availabilityPreserving([v(1, 'AVAILABLE', false), v(2, 'AVAILABLE', true)]), {
      kind: 'unload',
      version: 1,
    });
  });

  it('unloads everything when nothing is wanted', () => {
    assert.deepEqual(availabilityPreserving([v(3, 'AVAILABLE', false)]), { kind: 'unload', version: 3 });
  });

  it('with several unwanted serving versions, unloads the lowest but keeps the last one', () => {
    const both = [v(1, 'AVAILABLE', false), v(2, 'AVAILABLE', false), v(3, 'END', true)];
    assert.deepEqual(availabilityPreserving(both), { kind: 'unload', version: 1 });
    const one = [v(1, 'UNLOADING', false), v(2, 'AVAILABLE', false), v(3, 'END', true)];
    assert.equal(availabilityPreserving(one), undefined);
  });

  it('loads the highest new wanted version first and ignores unwanted new ones', () => {
    assert.deepEqual(
      availabilityPreserving([v(1, 'START', true), v(3, 'START', true), v(4, 'START', false)]),
      {
        kind: 'load',
        version: 3,
      },
    );
  });

  it('has nothing to do when everything is settled', () => {
    assert.equal(availabilityPreserving([]), undefined);
    assert.equal(availabilityPreserving([v(2, 'AVAILABLE', true), v(1, 'UNLOADING', false)]), undefined);
  });
});

describe('resourcePreserving', () => {
  it('unloads the unwanted version before loading the new one', () => {
    const versions = [v(1, 'AVAILABLE', false), v(2, 'START', true)];
    assert.deepEqual(resourcePreserving(versions), { kind: 'unload', version: 1 });
  });

  it('waits while any version is unloading or loading', () => {
    assert.equal(resourcePreserving([v(1, 'UNLOADING', false), v(2, 'START', true)]), undefined);
    assert.equal(resourcePreserving([v(2, 'LOADING', true), v(3, 'START', true)]), undefined);
  });

  it('loads the highest new wanted version when nothing is in transition', () => {
    assert.deepEqual(resourcePreserving([v(1, 'END', false), v(2, 'START', true), v(3, 'START', true)]), {
      kind: 'load',
      version: 3,
    });
    assert.equal(resourcePreserving([v(2, 'AVAILABLE', true)]), undefined);
  });
});
