import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UtilizationWindow } from '../../../src/main/metrics/utilization-window.js';

describe('UtilizationWindow', () => {
  it('reports the busy fraction since the previous sample, not since start', () => {
    let now = 0;
    const w = new UtilizationWindow(1000, () => now);
    assert.equal(w.sample('cpu', 0, 2, 0.9), 0.9); // first sample: the fallback
    now = 2000;
    assert.equal(w.sample('cpu', 2, 2), 0.5); // 2 busy s of 2 workers × 2 s
    now = 2500;
    assert.equal(w.sample('cpu', 3, 2), 0.5); // under the window: the last value
    now = 4000;
    assert.equal(w.sample('cpu', 1, 2), 0); // a restarted counter never goes negative
    now = 5000;
    assert.equal(w.sample('cpu', 10, 2), 1); // capped at 1
  });
});
