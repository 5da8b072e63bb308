import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../../src/main/tenancy/token-bucket.js';

function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

describe('TokenBucket', () => {
  it('starts full and allows exactly `burst` takes at once', () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 3, clock);
    assert.deepEqual(b.take(), { ok: true });
    assert.deepEqual(b.take(), { ok: true });
    assert.deepEqual(b.take(), { ok: true });
    assert.equal(b.take().ok, false);
  });

  it('refills at the rate, never above burst', () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 3, clock);
    for (let i = 0; i < 3; i++) b.take();
    clock.advance(100); // one token at 10/s
    assert.equal(b.take().ok, true);
    assert.equal(b.take().ok, false);
    clock.advance(60_000);
    assert.equal(b.available(), 3);
  });

  it('reports the wait until the next token, rounded up to whole seconds', () => {
    const clock = fakeClock();
    const b = new TokenBucket(0.5, 1, clock); // one token every 2 s
    assert.equal(b.take().ok, true);
    clock.advance(500);
    const r = b.take();
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.retryAfterMs, 1500);
      assert.equal(r.retryAfterSeconds, 2);
    }
    clock.advance(1500);
    assert.equal(b.take().ok, true);
  });

  it('reports at least one second for sub-second waits', () => {
    const clock = fakeClock();
    const b = new TokenBucket(100, 1, clock);
    b.take();
    const r = b.take();
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.retryAfterSeconds, 1);
      assert.ok(Math.abs(r.retryAfterMs - 10) < 1e-9);
    }
  });

  it('takes back a given-back token, never above burst', () => {
    const clock = fakeClock();
    const b = new TokenBucket(1, 2, clock);
    b.take();
    b.take();
    b.giveBack();
    assert.equal(b.available(), 1);
    assert.equal(b.take().ok, true);
    b.giveBack();
    b.giveBack();
    b.giveBack();
    assert.equal(b.available(), 2);
  });

  it('a refused take consumes nothing', () => {
    const clock = fakeClock();
    const b = new TokenBucket(1, 2, clock);
    b.take(2);
    for (let i = 0; i < 5; i++) assert.equal(b.take().ok, false);
    clock.advance(1000);
    assert.equal(b.take().ok, true);
  });

  it('takes several tokens at once', () => {
    const clock = fakeClock();
    const b = new TokenBucket(2, 4, clock);
    assert.equal(b.take(3).ok, true);
    const r = b.take(2);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.retryAfterMs, 500);
  });

  it('ignores a clock that steps back', () => {
    const clock = fakeClock(5000);
    const b = new TokenBucket(1, 1, clock);
    b.take();
    clock.set(0);
    assert.equal(b.take().ok, false);
    clock.set(5000);
    assert.equal(b.take().ok, false);
    clock.set(6000);
    assert.equal(b.take().ok, true);
  });

  it('rejects invalid settings and impossible takes', () => {
    assert.throws(() => new TokenBucket(0, 1), RangeError);
    assert.throws(() => new TokenBucket(1, 0.5), RangeError);
    assert.throws(() => new TokenBucket(1, 2).take(3), RangeError);
    assert.throws(() => new TokenBucket(1, 2).take(0), RangeError);
  });
});
