import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { whenFirstReady } from '../../../src/main/lifecycle/when-ready.js';

/** A readiness source driven by the test: `change()` is a version state change. */
function source(ready = false) {
  const listeners = new Set<() => void>();
  return {
    ready: () => ready,
    onChange(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    listeners,
    change(next: boolean) {
      ready = next;
      for (const l of [...listeners]) l();
    },
  };
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('whenFirstReady', () => {
  it('acts at once when ready, and stops watching', () => {
    const s = source(true);
    let runs = 0;
    whenFirstReady(
      s,
      () => false,
      () => runs++,
    );
    assert.equal(runs, 1);
    assert.equal(s.listeners.size, 0);
  });

  it('acts once, after the first change that makes the source ready', async () => {
    const s = source(false);
    let runs = 0;
    whenFirstReady(
      s,
      () => false,
      () => runs++,
    );
    s.change(false);
    await tick();
    assert.equal(runs, 0);
    s.change(true);
    await tick();
    s.change(true);
    await tick();
    assert.equal(runs, 1);
    assert.equal(s.listeners.size, 0);
  });

  it('never acts once cancelled (a shutdown began first)', async () => {
    const s = source(false);
    let cancelled = false;
    let runs = 0;
    whenFirstReady(
      s,
      () => cancelled,
      () => runs++,
    );
    cancelled = true;
    s.change(true);
    await tick();
    assert.equal(runs, 0);
    assert.equal(s.listeners.size, 0);
  });
});
