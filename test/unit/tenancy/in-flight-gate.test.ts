import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { InFlightGate } from '../../../src/main/tenancy/in-flight-gate.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const code = (c: string) => (err: unknown) => err instanceof ServingError && err.code === c;

describe('InFlightGate', () => {
  it('lets tenants without a limit (and the default tenant) through at once', () => {
    const gate = new InFlightGate([['acme', 0]]);
    for (let i = 0; i < 100; i++) assert.ok(gate.tryEnter('acme'));
    assert.ok(gate.tryEnter(undefined));
    assert.ok(gate.tryEnter('unknown'));
    assert.equal(gate.inFlight('acme'), 0);
  });

  it('holds a tenant at its limit and hands a released slot to the first waiter', async () => {
    const gate = new InFlightGate([['acme', 2]]);
    const a = gate.tryEnter('acme')!;
    const b = gate.tryEnter('acme')!;
    assert.equal(gate.tryEnter('acme'), undefined);
    const order: string[] = [];
    const w1 = gate.enter('acme').then((release) => {
      order.push('w1');
      return release;
    });
    const w2 = gate.enter('acme').then((release) => {
      order.push('w2');
      return release;
    });
    await tick();
    assert.deepEqual(order, []);
    assert.equal(gate.waiting('acme'), 2);
    // A newcomer cannot overtake the waiters even when a slot frees.
    a();
    assert.equal(gate.tryEnter('acme'), undefined);
    await tick();
    assert.deepEqual(order, ['w1']);
    assert.equal(gate.inFlight('acme'), 2);
    b();
    b(); // a second release is ignored
    await tick();
    assert.deepEqual(order, ['w1', 'w2']);
    (await w1)();
    (await w2)();
    assert.equal(gate.inFlight('acme'), 0);
    assert.equal(gate.waiting('acme'), 0);
  });

  it('keeps limits per tenant', () => {
    const gate = new InFlightGate([
      ['acme', 1],
      ['globex', 1],
    ]);
    assert.ok(gate.tryEnter('acme'));
    assert.equal(gate.tryEnter('acme'), undefined);
    assert.ok(gate.tryEnter('globex'));
  });

  it('a waiter leaves with CANCELLED on abort and DEADLINE_EXCEEDED at its deadline, losing no slot', async () => {
    const gate = new InFlightGate([['acme', 1]]);
    const held = gate.tryEnter('acme')!;
    const controller = new AbortController();
    const cancelled = gate.enter('acme', controller.signal);
    const expired = gate.enter('acme', undefined, Date.now() - 1);
    controller.abort();
    await assert.rejects(cancelled, code('CANCELLED'));
    await assert.rejects(expired, code('DEADLINE_EXCEEDED'));
    assert.equal(gate.waiting('acme'), 0);
    held();
    assert.equal(gate.inFlight('acme'), 0);
    assert.ok(gate.tryEnter('acme'), 'the slot is free again');
  });

  it('rejects an already aborted signal at once', async () => {
    const gate = new InFlightGate([['acme', 1]]);
    gate.tryEnter('acme');
    await assert.rejects(gate.enter('acme', AbortSignal.abort()), code('CANCELLED'));
  });

  it('validates limits', () => {
    assert.throws(() => new InFlightGate([['acme', -1]]), /max in flight of tenant 'acme'/);
    assert.throws(() => new InFlightGate([['acme', 1.5]]), RangeError);
  });
});
