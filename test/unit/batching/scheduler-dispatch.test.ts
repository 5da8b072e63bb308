import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchingOptions } from '../../../src/batching/batching-options.js';
import type { BatchFault } from '../../../src/batching/fault-isolation.js';
import { BatchScheduler } from '../../../src/batching/scheduler.js';
import { ServingError } from '../../../src/core/errors.js';
import { batching, FakeExecutor, flush, ManualClock, rowsOf, SIGNATURE, state } from './fakes.js';

function setup(options: Partial<BatchingOptions> = {}, slots = 1) {
  const clock = new ManualClock();
  const exec = new FakeExecutor(slots);
  const faults: BatchFault[] = [];
  const scheduler = new BatchScheduler({ clock, onFault: (f) => faults.push(f) });
  scheduler.addModel('m', { executor: exec, signature: SIGNATURE, batching: batching(options) });
  const enqueue = (value = 1, extra: { deadline?: number } = {}) =>
    scheduler.enqueue('m', { inputs: rowsOf(1, value), outputNames: [], ...extra });
  return { clock, exec, scheduler, enqueue, faults };
}

/** The first value of each row of the batch's input x (width 2). */
const values = (data: unknown) => [...(data as Float32Array)].filter((_, i) => i % 2 === 0);

describe('BatchScheduler eager dispatch (no idle wait)', () => {
  it('runs a request that finds the model idle at once, without its batch timeout', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 1e6 });
    const p = enqueue(3);
    await flush();
    assert.equal(exec.batches.length, 1, 'started with no time passing');
    assert.equal(clock.timerCount, 0, 'no batch timer for it');
    exec.complete(exec.batches[0]);
    assert.equal((await p).queueMicros, 0);
  });

  it('lets requests that arrive in the same event-loop turn share the idle batch', async () => {
    const { exec, enqueue } = setup({ batchTimeoutMicros: 1e6 });
    const all = [enqueue(1), enqueue(2), enqueue(3)];
    await flush();
    assert.equal(exec.batches.length, 1);
    assert.deepEqual(values(exec.batches[0].inputs.x.data), [1, 2, 3]);
    await exec.drain();
    await Promise.all(all);
  });

  it('starts the batch that formed while the worker was busy as soon as the worker frees', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 1e6 });
    const first = enqueue(1);
    await flush();
    const second = enqueue(2);
    const third = enqueue(3);
    await flush();
    assert.equal(exec.batches.length, 1, 'the worker is busy: the batch grows');
    assert.equal(clock.timerCount, 0, 'no batch timer: it waits for the worker, not for company');
    exec.complete(exec.batches[0]);
    await first;
    await flush();
    assert.equal(exec.batches.length, 2, 'started with no time passing');
    assert.deepEqual(values(exec.batches[1].inputs.x.data), [2, 3]);
    exec.complete(exec.batches[1]);
    assert.deepEqual(
      (await Promise.all([second, third])).map((r) => r.batchSize),
      [2, 2],
    );
  });

  it('waits for company up to the timeout with eagerDispatch off (TF Serving), even when the worker frees', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 1000, eagerDispatch: false });
    const first = enqueue(1);
    await flush();
    assert.equal(exec.batches.length, 0, 'a lone request waits for company');
    clock.advance(1);
    await flush();
    const second = enqueue(2);
    await flush();
    exec.complete(exec.batches[0]);
    await first;
    await flush();
    assert.equal(exec.batches.length, 1, 'the slot is free but the forming batch waits for company');
    clock.advance(0.5);
    const third = enqueue(3);
    await flush();
    assert.equal(exec.batches.length, 1);
    clock.advance(0.5);
    await flush();
    assert.equal(exec.batches.length, 2, 'closed by the timeout of its oldest request');
    assert.deepEqual(values(exec.batches[1].inputs.x.data), [2, 3]);
    exec.complete(exec.batches[1]);
    await Promise.all([second, third]);
  });

  it('dispatches a lone request at an idle model after one event-loop turn even with batchTimeoutMicros 0', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 0 });
    const p = enqueue(1);
    const q = enqueue(2);
    await flush();
    assert.equal(exec.batches.length, 1);
    assert.deepEqual(values(exec.batches[0].inputs.x.data), [1, 2], 'same-turn arrivals share it');
    assert.equal(clock.timerCount, 0);
    await exec.drain();
    await Promise.all([p, q]);
  });

  it('keeps one timer per queue however many requests with deadlines wait', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 0 }, 0);
    const all = Array.from({ length: 20 }, (_, i) => enqueue(i, { deadline: clock.now() + 100 + i }));
    assert.equal(clock.timerCount, 1);
    clock.advance(105);
    for (const p of all.slice(0, 6)) await assert.rejects(p, { code: 'DEADLINE_EXCEEDED' });
    assert.equal(clock.timerCount, 1, 're-armed for the next deadline');
    exec.setSlots(1);
    await exec.drain();
    await Promise.all(all.slice(6));
    assert.equal(clock.timerCount, 0, 'no timers left behind');
  });
});

describe('BatchScheduler batch fault isolation', () => {
  it('re-runs a failed batch in halves down to the bad request; only it gets the error', async () => {
    const { exec, enqueue, faults } = setup({ batchTimeoutMicros: 0 }, 0);
    const all = [1, 2, 3, 4, 5].map((v) => enqueue(v));
    const settled = Promise.allSettled(all);
    exec.setSlots(1);
    const bad = new ServingError('INVALID_ARGUMENT', 'index 7 is out of range');
    // The fake runtime: any batch holding the row of value 4 fails.
    for (let i = 0; i < 20; i++) {
      await flush();
      const open = exec.open;
      if (open.length === 0) break;
      for (const b of open) {
        if (values(b.inputs.x.data).includes(4)) exec.fail(b, bad);
        else exec.complete(b);
      }
    }
    const outcomes = await settled;
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((outcomes[3] as PromiseRejectedResult).reason, bad);
    assert.deepEqual(
      exec.batches.map((b) => values(b.inputs.x.data)),
      [[1, 2, 3, 4, 5], [1, 2, 3], [4, 5], [4], [5]],
      'bisected, each group ahead of new work',
    );
    assert.deepEqual(
      faults.map((f) => `${f.event}:${f.requests}`),
      ['bisected:5', 'bisected:2', 'isolated:1'],
    );
  });

  it('fails every request of a batch at once when the worker died (UNAVAILABLE)', async () => {
    const { exec, enqueue, faults } = setup({ batchTimeoutMicros: 0 }, 0);
    const died = new ServingError('UNAVAILABLE', 'worker crashed');
    const all = [enqueue(1), enqueue(2)];
    const failed = all.map((p) => assert.rejects(p, (e) => e === died));
    exec.setSlots(1);
    await flush();
    exec.fail(exec.batches[0], died);
    await Promise.all(failed);
    assert.equal(exec.batches.length, 1, 'not re-run');
    assert.deepEqual(faults, []);
  });

  it('drops a request whose deadline passed before its group is re-run', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 0 }, 0);
    const late = enqueue(1, { deadline: clock.now() + 10 });
    const lateFailed = assert.rejects(late, { code: 'DEADLINE_EXCEEDED' });
    const fine = enqueue(2);
    exec.setSlots(1);
    await flush();
    clock.advance(20);
    exec.fail(exec.batches[0], new ServingError('INTERNAL', 'boom'));
    await lateFailed;
    await flush();
    assert.deepEqual(values(exec.batches[1].inputs.x.data), [2]);
    exec.complete(exec.batches[1]);
    assert.equal((await fine).batchSize, 1);
  });

  it('waits for re-run groups before a closing queue reports drained', async () => {
    const { exec, enqueue, scheduler } = setup({ batchTimeoutMicros: 0 }, 0);
    const all = [enqueue(1), enqueue(2)];
    exec.setSlots(1);
    await flush();
    const closed = scheduler.close();
    exec.fail(exec.batches[0], new ServingError('INTERNAL', 'boom'));
    await flush();
    assert.equal(await state(closed), 'pending');
    await exec.drain();
    await closed;
    assert.deepEqual(
      (await Promise.all(all)).map((r) => r.batchSize),
      [1, 1],
    );
  });
});
