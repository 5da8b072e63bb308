import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import {
  assertTransition,
  type HarnessState,
  LEGAL_TRANSITIONS,
  LoaderHarness,
} from '../../../src/main/lifecycle/harness.js';
import type { LoadedVersion } from '../../../src/main/lifecycle/loader.js';
import { FakeClock, flush, SIGNATURE } from './fakes.js';

const STATES: HarnessState[] = [
  'new',
  'loading',
  'retrying',
  'available',
  'quiescing',
  'unloading',
  'disabled',
  'error',
];
const LOADED: LoadedVersion = { key: 'm/1', platform: 'onnx', signature: SIGNATURE, memoryBytes: 1 };

const isInternal = (err: unknown) => err instanceof ServingError && err.code === 'INTERNAL';

interface Script {
  /** Outcome of each load attempt in order: an error to throw, or undefined for success. */
  attempts?: unknown[];
  unloadError?: unknown;
  retries?: number;
  intervalMs?: number;
  /** Load / unload calls never settle (to observe the loading / unloading states). */
  hangLoad?: boolean;
  hangUnload?: boolean;
}

const never = new Promise<never>(() => {});

function harness(script: Script = {}) {
  const clock = new FakeClock();
  const trail: string[] = [];
  let attempt = 0;
  const h = new LoaderHarness({
    model: 'm',
    version: 1,
    load: async () => {
      if (script.hangLoad) return never;
      const outcome = script.attempts?.[attempt++];
      if (outcome !== undefined) throw outcome;
      return LOADED;
    },
    unload: async () => {
      if (script.hangUnload) return never;
      if (script.unloadError !== undefined) throw script.unloadError;
    },
    loadRetries: script.retries ?? 0,
    loadRetryIntervalMs: script.intervalMs ?? 1000,
    clock,
    onTransition: (x, from) => trail.push(`${from}->${x.state}`),
  });
  return { h, clock, trail };
}

async function reach(state: HarnessState): Promise<LoaderHarness> {
  const failing = state === 'retrying' || state === 'error';
  const { h } = harness({
    attempts: failing ? [new Error('boom'), new Error('boom')] : [],
    retries: 1,
    hangLoad: state === 'loading',
    hangUnload: state === 'unloading',
  });
  if (state === 'new') return h;
  if (state === 'disabled') {
    h.cancel();
    return h;
  }
  if (state === 'loading') {
    void h.load();
    return h;
  }
  void h.load();
  await flush();
  if (state === 'retrying' || state === 'available') return h;
  if (state === 'error') {
    h.cancel();
    return h;
  }
  h.quiesce();
  if (state === 'quiescing') return h;
  void h.unload();
  return h;
}

describe('assertTransition', () => {
  it('allows exactly the legal transitions and throws INTERNAL for every other pair', () => {
    const legal = new Set([
      'new->loading',
      'new->disabled',
      'loading->available',
      'loading->retrying',
      'loading->error',
      'retrying->loading',
      'retrying->error',
      'available->quiescing',
      'quiescing->unloading',
      'unloading->disabled',
      'unloading->error',
    ]);
    for (const from of STATES) {
      for (const to of STATES) {
        const pair = `${from}->${to}`;
        assert.equal(LEGAL_TRANSITIONS[from].includes(to), legal.has(pair), pair);
        if (legal.has(pair)) assert.doesNotThrow(() => assertTransition(1, from, to), pair);
        else assert.throws(() => assertTransition(1, from, to), isInternal, pair);
      }
    }
  });
});

describe('LoaderHarness', () => {
  it('goes new -> loading -> available -> quiescing -> unloading -> disabled', async () => {
    const { h, trail } = harness();
    assert.equal(h.versionState, 'START');
    const loading = h.load();
    assert.equal(h.versionState, 'LOADING');
    await loading;
    assert.equal(h.versionState, 'AVAILABLE');
    assert.equal(h.loaded, LOADED);
    h.quiesce();
    assert.equal(h.versionState, 'UNLOADING');
    await h.unload();
    assert.equal(h.state, 'disabled');
    assert.deepEqual(h.status(), { version: 1, state: 'END', errorCode: 'OK', errorMessage: '' });
    assert.equal(h.loaded, undefined);
    assert.deepEqual(trail, [
      'new->loading',
      'loading->available',
      'available->quiescing',
      'quiescing->unloading',
      'unloading->disabled',
    ]);
  });

  it('does not retry a permanent error (a memory budget rejection): error at once', async () => {
    const err = new ServingError('RESOURCE_EXHAUSTED', 'device memory budget exceeded', { permanent: true });
    const { h, clock, trail } = harness({ attempts: [err, undefined], retries: 5, intervalMs: 500 });
    await h.load();
    assert.equal(h.attempts, 1);
    assert.equal(h.state, 'error');
    assert.deepEqual(h.status(), {
      version: 1,
      state: 'END',
      errorCode: 'RESOURCE_EXHAUSTED',
      errorMessage: 'device memory budget exceeded',
    });
    assert.equal(clock.pendingTimers, 0);
    assert.deepEqual(trail, ['new->loading', 'loading->error']);
  });

  it('retries transient errors loadRetries times, loadRetryIntervalMs apart, then ends in error with the load error', async () => {
    const err = new ServingError('UNAVAILABLE', 'worker restarting');
    const { h, clock, trail } = harness({ attempts: [err, err, err], retries: 2, intervalMs: 500 });
    let done = false;
    void h.load().then(() => {
      done = true;
    });
    await flush();
    assert.equal(h.attempts, 1);
    assert.equal(h.state, 'retrying');
    assert.equal(h.versionState, 'LOADING');
    await clock.advance(499);
    assert.equal(h.attempts, 1, 'no retry before the interval');
    await clock.advance(1);
    assert.equal(h.attempts, 2);
    await clock.advance(500);
    assert.equal(h.attempts, 3);
    assert.equal(done, true);
    assert.equal(h.state, 'error');
    assert.deepEqual(h.status(), {
      version: 1,
      state: 'END',
      errorCode: 'UNAVAILABLE',
      errorMessage: 'worker restarting',
    });
    assert.equal(clock.pendingTimers, 0);
    assert.deepEqual(trail, [
      'new->loading',
      'loading->retrying',
      'retrying->loading',
      'loading->retrying',
      'retrying->loading',
      'loading->error',
    ]);
  });

  it('succeeds on a retry and clears the error', async () => {
    const { h, clock } = harness({ attempts: [new Error('flaky')], retries: 3 });
    void h.load();
    await flush();
    await clock.advance(1000);
    assert.equal(h.state, 'available');
    assert.equal(h.attempts, 2);
    assert.equal(h.error, undefined);
    assert.equal(h.status().errorCode, 'OK');
  });

  it('reports a plain loader error as UNKNOWN with its message', async () => {
    const { h } = harness({ attempts: [new Error('no model.onnx in /m/1')] });
    await h.load();
    assert.deepEqual(h.status(), {
      version: 1,
      state: 'END',
      errorCode: 'UNKNOWN',
      errorMessage: 'no model.onnx in /m/1',
    });
  });

  it('cancel: new -> disabled; retrying -> error without further attempts', async () => {
    const fresh = harness().h;
    fresh.cancel();
    assert.equal(fresh.state, 'disabled');

    const { h, clock } = harness({ attempts: [new Error('a'), new Error('b')], retries: 5 });
    void h.load();
    await flush();
    assert.equal(h.state, 'retrying');
    h.cancel();
    assert.equal(h.state, 'error');
    assert.equal(h.status().errorMessage, 'a');
    await clock.advance(10_000);
    assert.equal(h.attempts, 1);
    assert.equal(clock.pendingTimers, 0);
  });

  it('cancel while loading: no retry after a failure, available after a success', async () => {
    const failing = harness({ attempts: [new Error('a')], retries: 5 }).h;
    const p = failing.load();
    failing.cancel();
    await p;
    assert.equal(failing.state, 'error');
    assert.equal(failing.attempts, 1);

    const ok = harness().h;
    const q = ok.load();
    ok.cancel();
    await q;
    assert.equal(ok.state, 'available');
  });

  it('an unload failure ends in error with its message', async () => {
    const { h } = harness({ unloadError: new Error('worker gone') });
    await h.load();
    h.quiesce();
    await h.unload();
    assert.deepEqual(h.status(), {
      version: 1,
      state: 'END',
      errorCode: 'UNKNOWN',
      errorMessage: 'worker gone',
    });
  });

  it('every method throws INTERNAL, synchronously, in a state it is illegal in', async () => {
    const legal: Record<string, HarnessState[]> = {
      load: ['new'],
      cancel: ['new', 'loading', 'retrying'],
      quiesce: ['available'],
      unload: ['quiescing'],
    };
    for (const state of STATES) {
      for (const method of ['load', 'cancel', 'quiesce', 'unload'] as const) {
        const h = await reach(state);
        assert.equal(h.state, state);
        if (legal[method].includes(state)) continue;
        assert.throws(() => h[method](), isInternal, `${method} in ${state}`);
        assert.equal(h.state, state, `${method} in ${state} left the state alone`);
      }
    }
  });
});
