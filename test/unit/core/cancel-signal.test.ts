import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { CallCancel, type CancelSignal, linkedCancel } from '../../../src/core/cancel-signal.js';

describe('CallCancel', () => {
  it('runs each listener once, with the reason set, and none added after the abort', () => {
    const cancel = new CallCancel();
    const seen: unknown[] = [];
    cancel.addEventListener('abort', () => seen.push(['a', cancel.aborted, cancel.reason]));
    cancel.addEventListener('abort', () => seen.push(['b', cancel.reason]));
    assert.equal(cancel.aborted, false);
    assert.equal(cancel.reason, undefined);
    cancel.abort('gone');
    cancel.abort('again');
    cancel.addEventListener('abort', () => seen.push('late'));
    assert.deepEqual(seen, [
      ['a', true, 'gone'],
      ['b', 'gone'],
    ]);
    assert.equal(cancel.reason, 'gone', 'the first reason stays');
  });

  it('does not run a removed listener', () => {
    const cancel = new CallCancel();
    let runs = 0;
    const listener = () => runs++;
    cancel.addEventListener('abort', listener);
    cancel.removeEventListener('abort', listener);
    cancel.abort(undefined);
    assert.equal(runs, 0);
  });
});

describe('linkedCancel', () => {
  it('aborts with the outer signal and its reason, and detaches from it after', () => {
    const outer = new AbortController();
    const { signal } = linkedCancel(outer.signal);
    const reason = new Error('client went away');
    outer.abort(reason);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
  });

  it('aborts on withdraw alone, leaving the outer signal as it was', () => {
    const outer = new CallCancel();
    const { signal, withdraw } = linkedCancel(outer);
    withdraw();
    assert.equal(signal.aborted, true);
    assert.equal(outer.aborted, false);
    outer.abort('later');
    assert.equal(signal.reason, undefined, 'already withdrawn');
  });

  it('leaves no listener on the outer signal after withdraw or unlink', () => {
    const outer = new AbortController();
    const withdrawn = linkedCancel(outer.signal);
    const unlinked = linkedCancel(outer.signal);
    assert.equal(getEventListeners(outer.signal, 'abort').length, 2);
    withdrawn.withdraw();
    unlinked.unlink();
    assert.equal(getEventListeners(outer.signal, 'abort').length, 0);
    outer.abort('later');
    assert.equal(unlinked.signal.aborted, false, 'unlinked: the outer abort no longer reaches it');
  });

  it('starts aborted when the outer signal already is, and works with none', () => {
    const done: CancelSignal = AbortSignal.abort('before');
    assert.equal(linkedCancel(done).signal.reason, 'before');
    const alone = linkedCancel(undefined);
    assert.equal(alone.signal.aborted, false);
    alone.withdraw();
    assert.equal(alone.signal.aborted, true);
  });
});
