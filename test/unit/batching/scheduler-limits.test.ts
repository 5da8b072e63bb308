import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchingOptions } from '../../../src/batching/batching-options.js';
import { BatchScheduler } from '../../../src/batching/scheduler.js';
import { ServingError } from '../../../src/core/errors.js';
import { batching, batchRows, FakeExecutor, flush, ManualClock, rowsOf, SIGNATURE, state } from './fakes.js';

function setup(options: Partial<BatchingOptions> = {}, slots = 1) {
  const clock = new ManualClock();
  const exec = new FakeExecutor(slots);
  const scheduler = new BatchScheduler({ clock });
  scheduler.addModel('m', { executor: exec, signature: SIGNATURE, batching: batching(options) });
  const enqueue = (value = 1, extra: { deadline?: number; signal?: AbortSignal } = {}) =>
    scheduler.enqueue('m', { inputs: rowsOf(1, value), outputNames: [], ...extra });
  return { clock, exec, scheduler, enqueue };
}

const QUEUE_FULL = {
  code: 'UNAVAILABLE',
  message: 'The batch scheduling queue to which this task was submitted is full',
};

describe('BatchScheduler bounds', () => {
  it('rejects with UNAVAILABLE beyond maxEnqueuedBatches batches of rows', async () => {
    const { exec, enqueue } = setup(
      { maxBatchSize: 2, maxExecutionBatchSize: 2, maxEnqueuedBatches: 2, batchTimeoutMicros: 0 },
      0,
    );
    const accepted = [enqueue(), enqueue(), enqueue(), enqueue()];
    await assert.rejects(enqueue(), QUEUE_FULL);
    exec.setSlots(1);
    await exec.drain();
    await Promise.all(accepted);
  });

  it('rejects with UNAVAILABLE beyond maxQueueSize requests', async () => {
    const { exec, enqueue } = setup({ maxQueueSize: 2, batchTimeoutMicros: 0 }, 0);
    const accepted = [enqueue(), enqueue()];
    await assert.rejects(enqueue(), QUEUE_FULL);
    exec.setSlots(1);
    await exec.drain();
    await Promise.all(accepted);
  });
});

describe('BatchScheduler deadlines and cancellation', () => {
  it('drops a request whose deadline passes while queued, without running it', async () => {
    const { clock, exec, enqueue, scheduler } = setup({ batchTimeoutMicros: 0 }, 0);
    const late = enqueue(1, { deadline: clock.now() + 5 });
    const fine = enqueue(2);
    clock.advance(5);
    await assert.rejects(late, { code: 'DEADLINE_EXCEEDED' });
    assert.equal(scheduler.pending('m'), 1);
    exec.setSlots(1);
    await flush();
    assert.equal(exec.batches.length, 1);
    assert.equal(batchRows(exec.batches[0]), 1);
    assert.deepEqual([...(exec.batches[0].inputs.x.data as Float32Array)], [2, 2]);
    await exec.drain();
    await fine;
  });

  it('applies defaultQueueTimeoutMicros and refuses already expired deadlines', async () => {
    const { clock, exec, enqueue } = setup({ defaultQueueTimeoutMicros: 3000 }, 0);
    await assert.rejects(enqueue(1, { deadline: clock.now() }), { code: 'DEADLINE_EXCEEDED' });
    const queued = enqueue();
    clock.advance(2);
    assert.equal(await state(queued), 'pending');
    clock.advance(1);
    await assert.rejects(queued, { code: 'DEADLINE_EXCEEDED' });
    exec.setSlots(1);
    await flush();
    assert.equal(exec.batches.length, 0);
    assert.equal(clock.timerCount, 0, 'no timers left behind');
  });

  it('removes a request whose signal aborts while queued (CANCELLED)', async () => {
    const { exec, enqueue, scheduler } = setup({ batchTimeoutMicros: 0 }, 0);
    const controller = new AbortController();
    const cancelled = enqueue(1, { signal: controller.signal });
    const kept = enqueue(2);
    controller.abort();
    await assert.rejects(cancelled, { code: 'CANCELLED' });
    assert.equal(scheduler.pending('m'), 1);
    exec.setSlots(1);
    await flush();
    assert.deepEqual([...(exec.batches[0].inputs.x.data as Float32Array)], [2, 2]);
    await exec.drain();
    await kept;
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(enqueue(1, { signal: aborted.signal }), { code: 'CANCELLED' });
  });

  it('rejects a withdrawn request with the abort reason when it is a ServingError', async () => {
    const { exec, enqueue, scheduler } = setup({ batchTimeoutMicros: 0 }, 0);
    const controller = new AbortController();
    const timedOut = enqueue(1, { signal: controller.signal });
    controller.abort(new ServingError('DEADLINE_EXCEEDED', 'Deadline exceeded'));
    await assert.rejects(timedOut, { code: 'DEADLINE_EXCEEDED', message: 'Deadline exceeded' });
    const other = new AbortController();
    const plain = enqueue(1, { signal: other.signal });
    other.abort(new Error('not a serving error'));
    await assert.rejects(plain, { code: 'CANCELLED' });
    const early = new AbortController();
    early.abort(new ServingError('DEADLINE_EXCEEDED', 'late'));
    await assert.rejects(enqueue(1, { signal: early.signal }), { code: 'DEADLINE_EXCEEDED' });
    assert.equal(scheduler.pending('m'), 0);
    assert.equal(exec.batches.length, 0);
  });

  it('completes a request whose signal aborts once it runs', async () => {
    const { exec, enqueue } = setup({ batchTimeoutMicros: 0 });
    const controller = new AbortController();
    const p = enqueue(1, { signal: controller.signal });
    await flush();
    controller.abort();
    exec.complete(exec.batches[0]);
    assert.equal((await p).batchSize, 1);
  });
});

describe('BatchScheduler failures', () => {
  it('fails only the batch the executor rejects; later batches run', async () => {
    const { exec, enqueue } = setup({ batchTimeoutMicros: 0, maxBatchSize: 2, maxExecutionBatchSize: 2 });
    const first = [enqueue(1), enqueue(2)];
    const later = [enqueue(3), enqueue(4)];
    await flush();
    assert.equal(exec.batches.length, 1);
    // UNAVAILABLE (the worker died) fails the whole batch: it is not re-run.
    const boom = new ServingError('UNAVAILABLE', 'worker died');
    exec.fail(exec.batches[0], boom);
    for (const p of first) await assert.rejects(p, (e) => e === boom);
    await flush();
    assert.equal(exec.batches.length, 2);
    // A runtime failure is re-run request by request (fault isolation); each fails alone here.
    const laterFailed = later.map((p) => assert.rejects(p, { code: 'INTERNAL' }));
    exec.fail(exec.batches[1], new Error('runtime failed'));
    await flush();
    assert.deepEqual(exec.open.map(batchRows), [1]);
    exec.fail(exec.open[0], new Error('runtime failed'));
    await flush();
    assert.deepEqual(exec.open.map(batchRows), [1]);
    exec.fail(exec.open[0], new Error('runtime failed'));
    await Promise.all(laterFailed);
    const last = enqueue(5);
    await flush();
    exec.complete(exec.batches[4]);
    assert.equal((await last).batchSize, 1);
  });

  it('rejects requests too large for a batch with INVALID_ARGUMENT', async () => {
    const { scheduler } = setup({ maxBatchSize: 4, maxExecutionBatchSize: 4 });
    await assert.rejects(scheduler.enqueue('m', { inputs: rowsOf(5), outputNames: [] }), {
      code: 'INVALID_ARGUMENT',
      message: 'Task size 5 is larger than maximum input batch size 4',
    });
  });
});

describe('BatchScheduler shutdown', () => {
  it('close() refuses new requests and resolves once queued work has run', async () => {
    const { exec, enqueue, scheduler } = setup({ batchTimeoutMicros: 1e9 }, 0);
    const queued = [enqueue(1), enqueue(2), enqueue(3)];
    const closed = scheduler.close();
    await assert.rejects(enqueue(), { code: 'UNAVAILABLE' });
    assert.equal(await state(closed), 'pending');
    exec.setSlots(1);
    await flush();
    assert.equal(exec.batches.length, 1, 'closing flushes without waiting for the batch timeout');
    assert.equal(batchRows(exec.batches[0]), 3);
    assert.equal(await state(closed), 'pending');
    exec.complete(exec.batches[0]);
    await closed;
    await Promise.all(queued);
    assert.throws(
      () => scheduler.addModel('n', { executor: exec, signature: SIGNATURE, batching: batching() }),
      { code: 'UNAVAILABLE' },
    );
  });

  it('removeModel() drains one model, then forgets it', async () => {
    const { exec, enqueue, scheduler } = setup({ batchTimeoutMicros: 0 });
    const running = enqueue(1);
    await flush();
    const removed = scheduler.removeModel('m');
    await assert.rejects(enqueue(), { code: 'UNAVAILABLE' });
    assert.equal(await state(removed), 'pending');
    exec.complete(exec.batches[0]);
    await removed;
    await running;
    await assert.rejects(enqueue(), { code: 'NOT_FOUND' });
    scheduler.addModel('m', {
      executor: exec,
      signature: SIGNATURE,
      batching: batching({ batchTimeoutMicros: 0 }),
    });
    const again = enqueue(2);
    await flush();
    exec.complete(exec.batches[1]);
    await again;
  });
});
