import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchingOptions } from '../../../src/batching/batching-options.js';
import { BatchScheduler } from '../../../src/batching/scheduler.js';
import type { ServingError } from '../../../src/core/errors.js';
import { batching, batchRows, FakeExecutor, flush, ManualClock, rowsOf, SIGNATURE, state } from './fakes.js';

function setup(options: Partial<BatchingOptions> = {}, slots = 1) {
  const clock = new ManualClock();
  const exec = new FakeExecutor(slots);
  const scheduler = new BatchScheduler({ clock });
  scheduler.addModel('m', { executor: exec, signature: SIGNATURE, batching: batching(options) });
  const enqueue = (rows = 1, value = 1, width = 2) =>
    scheduler.enqueue('m', { inputs: rowsOf(rows, value, width), outputNames: ['x_out'] });
  return { clock, exec, scheduler, enqueue };
}

describe('BatchScheduler batch formation', () => {
  it('runs a request at once when idle and the timeout is 0', async () => {
    const { exec, enqueue } = setup({ batchTimeoutMicros: 0 });
    const p = enqueue(2, 7);
    await flush();
    assert.equal(exec.batches.length, 1);
    exec.complete(exec.batches[0]);
    const r = await p;
    assert.deepEqual(r.outputs.x_out.shape, [2, 2]);
    assert.deepEqual([...(r.outputs.x_out.data as Float32Array)], [7, 7, 7, 7]);
    assert.equal(r.batchSize, 2);
    assert.equal(r.queueMicros, 0);
    assert.deepEqual(r.timings, { computeInputMicros: 1, computeInferMicros: 2, computeOutputMicros: 3 });
  });

  it('closes a batch when its oldest request has waited batchTimeoutMicros (TF Serving: eagerDispatch off)', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 1000, eagerDispatch: false });
    const p1 = enqueue(1, 1);
    clock.advance(0.4);
    const p2 = enqueue(2, 2);
    await flush();
    clock.advance(0.5);
    await flush();
    assert.equal(exec.batches.length, 0, 'still waiting for company');
    clock.advance(0.1);
    await flush();
    assert.equal(exec.batches.length, 1);
    assert.equal(batchRows(exec.batches[0]), 3);
    exec.complete(exec.batches[0]);
    const [r1, r2] = await Promise.all([p1, p2]);
    assert.deepEqual([...(r1.outputs.x_out.data as Float32Array)], [1, 1]);
    assert.deepEqual([...(r2.outputs.x_out.data as Float32Array)], [2, 2, 2, 2]);
    assert.equal(r1.batchSize, 3);
    assert.ok(Math.abs(r1.queueMicros - 1000) < 1);
    assert.ok(Math.abs(r2.queueMicros - 600) < 1);
  });

  it('closes a timed-out batch even when its timer fires a little early (no hang)', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 1000, eagerDispatch: false });
    // The first timer fires 0.3 ms before it is due, as libuv's millisecond timers can.
    const setTimer = clock.setTimer.bind(clock);
    let early = true;
    clock.setTimer = (cb, ms) => {
      const handle = setTimer(cb, early ? ms - 0.3 : ms);
      early = false;
      return handle;
    };
    const p = enqueue(1, 1);
    await flush();
    clock.advance(0.8);
    await flush();
    assert.equal(exec.batches.length, 0, 'not due yet');
    clock.advance(0.3);
    await flush();
    assert.equal(exec.batches.length, 1, 'the re-armed timer closed the batch');
    exec.complete(exec.batches[0]);
    await p;
  });

  it('closes a timed-out batch when its timer fires early and time passes while it runs (no hang)', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 1000, eagerDispatch: false });
    // The timer fires 0.25 ms early, and each clock reading in its callback is 0.125 ms later
    // than the one before, so a second reading inside the callback finds the batch due.
    const setTimer = clock.setTimer.bind(clock);
    const now = clock.now.bind(clock);
    let drift = 0;
    let inCallback = false;
    clock.now = () => {
      if (inCallback) drift += 0.125;
      return now() + drift;
    };
    let early = true;
    clock.setTimer = (cb, ms) => {
      const fire = () => {
        inCallback = true;
        try {
          cb();
        } finally {
          inCallback = false;
        }
      };
      const handle = setTimer(fire, early ? ms - 0.25 : ms);
      early = false;
      return handle;
    };
    const p = enqueue(1, 1);
    await flush();
    clock.advance(0.8);
    await flush();
    assert.equal(exec.batches.length, 0, 'not due yet');
    clock.advance(1);
    await flush();
    assert.equal(exec.batches.length, 1, 'the batch started');
    exec.complete(exec.batches[0]);
    await p;
  });

  it('closes a full batch without waiting', async () => {
    const { exec, enqueue } = setup({ maxBatchSize: 4, maxExecutionBatchSize: 4, batchTimeoutMicros: 1e6 });
    for (let i = 0; i < 4; i++) void enqueue();
    await flush();
    assert.equal(exec.batches.length, 1);
    assert.equal(batchRows(exec.batches[0]), 4);
    await exec.drain();
  });

  it('lets a batch grow while no slot is free', async () => {
    const { clock, exec, enqueue } = setup({ maxBatchSize: 8, batchTimeoutMicros: 0 });
    const first = enqueue();
    await flush();
    assert.equal(exec.batches.length, 1);
    const waiting = Array.from({ length: 10 }, (_, i) => enqueue(1, i));
    clock.advance(100);
    await flush();
    assert.equal(exec.batches.length, 1, 'no slot: nothing else starts');
    exec.complete(exec.batches[0]);
    await first;
    await flush();
    assert.equal(exec.batches.length, 2);
    assert.equal(batchRows(exec.batches[1]), 8);
    exec.complete(exec.batches[1]);
    await flush();
    assert.equal(batchRows(exec.batches[2]), 2);
    exec.complete(exec.batches[2]);
    const results = await Promise.all(waiting);
    assert.deepEqual(
      results.map((r) => (r.outputs.x_out.data as Float32Array)[0]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it('runs each request alone with batching off (maxBatchSize 1)', async () => {
    const off = { maxBatchSize: 1, maxExecutionBatchSize: 1, batchTimeoutMicros: 0, numBatchThreads: 4 };
    const { exec, enqueue } = setup(off, 4);
    const all = [enqueue(1, 1), enqueue(1, 2), enqueue(1, 3)];
    await flush();
    assert.equal(exec.batches.length, 3);
    assert.deepEqual(exec.batches.map(batchRows), [1, 1, 1]);
    await exec.drain();
    const results = await Promise.all(all);
    assert.deepEqual(
      results.map((r) => r.batchSize),
      [1, 1, 1],
    );
  });

  it('pads a batch to the next allowed size and drops the padding outputs', async () => {
    const { exec, enqueue } = setup({ allowedBatchSizes: [2, 4, 8], batchTimeoutMicros: 0 }, 0);
    const p1 = enqueue(1, 1);
    const p2 = enqueue(2, 2);
    exec.setSlots(1);
    await flush();
    assert.equal(batchRows(exec.batches[0]), 4);
    assert.deepEqual([...(exec.batches[0].inputs.x.data as Float32Array)], [1, 1, 2, 2, 2, 2, 0, 0]);
    exec.complete(exec.batches[0]);
    const [r1, r2] = await Promise.all([p1, p2]);
    assert.deepEqual(r1.outputs.x_out.shape, [1, 2]);
    assert.deepEqual(r2.outputs.x_out.shape, [2, 2]);
    assert.equal(r2.batchSize, 3);
    assert.equal(r2.paddedSize, 4);
  });

  it('closes the open batch when a request with other non-batch dims arrives', async () => {
    const { clock, exec, enqueue } = setup({ batchTimeoutMicros: 1000, eagerDispatch: false });
    const narrow = enqueue(1, 1, 2);
    const wide = enqueue(1, 2, 3);
    await flush();
    assert.equal(exec.batches.length, 1, 'the mismatch closed the first batch');
    assert.deepEqual(exec.batches[0].inputs.x.shape, [1, 2]);
    exec.complete(exec.batches[0]);
    await narrow;
    await flush();
    assert.equal(exec.batches.length, 1, 'the second batch is open and waits');
    clock.advance(1);
    await flush();
    assert.deepEqual(exec.batches[1].inputs.x.shape, [1, 3]);
    exec.complete(exec.batches[1]);
    assert.deepEqual((await wide).outputs.x_out.shape, [1, 3]);
  });

  it('pads variable-length inputs into one batch when padVariableLengthInputs is on', async () => {
    const { exec, enqueue } = setup({ batchTimeoutMicros: 0, padVariableLengthInputs: true }, 0);
    const narrow = enqueue(1, 1, 2);
    const wide = enqueue(1, 2, 3);
    exec.setSlots(1);
    await flush();
    assert.equal(exec.batches.length, 1);
    assert.deepEqual(exec.batches[0].inputs.x.shape, [2, 3]);
    assert.deepEqual([...(exec.batches[0].inputs.x.data as Float32Array)], [1, 1, 0, 2, 2, 2]);
    exec.complete(exec.batches[0]);
    assert.deepEqual([...((await narrow).outputs.x_out.data as Float32Array)], [1, 1, 0]);
    assert.deepEqual([...((await wide).outputs.x_out.data as Float32Array)], [2, 2, 2]);
  });

  it('keeps the batch open on differing shapes while padVariableLengthInputs is on (fake clock)', async () => {
    const { clock, exec, enqueue } = setup({
      batchTimeoutMicros: 1000,
      padVariableLengthInputs: true,
      eagerDispatch: false,
    });
    const narrow = enqueue(1, 1, 2);
    const wide = enqueue(1, 2, 3);
    await flush();
    assert.equal(exec.batches.length, 0, 'padding lets both shapes share the open batch');
    clock.advance(0.5);
    const third = enqueue(1, 3, 2);
    await flush();
    assert.equal(exec.batches.length, 0);
    clock.advance(0.5);
    await flush();
    assert.equal(exec.batches.length, 1, 'the batch timeout closed it');
    assert.deepEqual(exec.batches[0].inputs.x.shape, [3, 3]);
    exec.complete(exec.batches[0]);
    assert.deepEqual((await narrow).outputs.x_out.shape, [1, 3]);
    assert.deepEqual((await wide).outputs.x_out.shape, [1, 3]);
    assert.equal((await third).batchSize, 3);
  });

  it('with splitting, pads only up to maxExecutionBatchSize', async () => {
    const { exec, enqueue } = setup(
      {
        maxBatchSize: 64,
        maxExecutionBatchSize: 16,
        enableLargeBatchSplitting: true,
        allowedBatchSizes: [8, 16],
        batchTimeoutMicros: 0,
      },
      0,
    );
    const big = enqueue(20, 1);
    const small = enqueue(3, 2);
    exec.setSlots(1);
    await exec.drain();
    assert.ok(exec.batches.length >= 2);
    for (const b of exec.batches) assert.ok(batchRows(b) <= 16, `executed ${batchRows(b)} rows`);
    assert.deepEqual(exec.batches.map(batchRows), [16, 8]);
    assert.deepEqual((await big).outputs.x_out.shape, [20, 2]);
    assert.equal((await small).paddedSize, 8);
  });

  it('refuses allowed sizes that do not end at the executed batch size, naming the option', () => {
    const { exec, scheduler } = setup();
    const add = (b: Partial<BatchingOptions>) => () =>
      scheduler.addModel(`k${Math.random()}`, {
        executor: exec,
        signature: SIGNATURE,
        batching: batching(b),
      });
    assert.throws(
      add({
        maxBatchSize: 64,
        maxExecutionBatchSize: 16,
        enableLargeBatchSplitting: true,
        allowedBatchSizes: [8, 64],
      }),
      (e: ServingError) =>
        e.code === 'INVALID_ARGUMENT' &&
        e.message ===
          'batching.allowedBatchSizes must end with maxExecutionBatchSize (16) when enableLargeBatchSplitting is on',
    );
    assert.throws(
      add({ maxBatchSize: 8, allowedBatchSizes: [2, 4] }),
      (e: ServingError) => e.message === 'batching.allowedBatchSizes must end with maxBatchSize (8)',
    );
  });

  it('asks the executor for the union of wanted outputs and returns each request its own', async () => {
    const { exec, scheduler } = setup({ batchTimeoutMicros: 0 }, 0);
    const two = { x: rowsOf(1).x, y: rowsOf(1, 5).x };
    const a = scheduler.enqueue('m', { inputs: two, outputNames: ['x_out'] });
    const b = scheduler.enqueue('m', { inputs: two, outputNames: ['y_out'] });
    exec.setSlots(1);
    await flush();
    assert.deepEqual([...exec.batches[0].outputNames].sort(), ['x_out', 'y_out']);
    exec.complete(exec.batches[0]);
    assert.deepEqual(Object.keys((await a).outputs), ['x_out']);
    assert.deepEqual(Object.keys((await b).outputs), ['y_out']);
  });

  it('runs requests of a model without a batch dim one at a time, unsplit', async () => {
    const clock = new ManualClock();
    const exec = new FakeExecutor(0);
    const scheduler = new BatchScheduler({ clock });
    const signature = {
      ...SIGNATURE,
      inputs: [{ name: 'x', dtype: 'float32' as const, shape: [3] }],
      batched: false,
    };
    scheduler.addModel('u', { executor: exec, signature, batching: batching({ batchTimeoutMicros: 0 }) });
    const input = { x: { dtype: 'float32' as const, shape: [3], data: Float32Array.from([1, 2, 3]) } };
    const a = scheduler.enqueue('u', { inputs: input, outputNames: [] });
    const b = scheduler.enqueue('u', { inputs: input, outputNames: [] });
    exec.setSlots(1);
    await exec.drain();
    assert.equal(exec.batches.length, 2);
    assert.notEqual(exec.batches[0].inputs.x.data, input.x.data, 'inputs are copied for transfer');
    const r = await a;
    assert.deepEqual(r.outputs.x_out.shape, [3]);
    assert.deepEqual([...(r.outputs.x_out.data as Float32Array)], [1, 2, 3]);
    await b;
  });

  it('rejects bad batching options and duplicate keys', () => {
    const { exec, scheduler } = setup();
    assert.throws(
      () =>
        scheduler.addModel('bad', {
          executor: exec,
          signature: SIGNATURE,
          batching: batching({ maxBatchSize: 0 }),
        }),
      (e: ServingError) => e.code === 'INVALID_ARGUMENT' && /maxBatchSize/.test(e.message),
    );
    assert.throws(
      () => scheduler.addModel('m', { executor: exec, signature: SIGNATURE, batching: batching() }),
      (e: ServingError) => e.code === 'ALREADY_EXISTS',
    );
  });

  it('rejects unknown models with NOT_FOUND', async () => {
    const { scheduler } = setup();
    await assert.rejects(scheduler.enqueue('nope', { inputs: rowsOf(1), outputNames: [] }), {
      code: 'NOT_FOUND',
    });
  });

  it('reports pending requests', async () => {
    const { exec, enqueue, scheduler } = setup({ batchTimeoutMicros: 0 }, 0);
    void enqueue();
    void enqueue(3);
    assert.equal(scheduler.pending('m'), 2);
    assert.equal(scheduler.pending(), 2);
    assert.equal(await state(enqueue()), 'pending');
    exec.setSlots(1);
    await flush();
    assert.equal(scheduler.pending('m'), 0);
    await exec.drain();
  });
});
