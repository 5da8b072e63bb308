import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { sliceRows } from '../../../src/batching/large-request.js';
import { BatchScheduler } from '../../../src/batching/scheduler.js';
import { ServingError } from '../../../src/core/errors.js';
import type { TensorMap } from '../../../src/core/tensor.js';
import { batching, batchRows, FakeExecutor, f32, flush, ManualClock, SIGNATURE } from './fakes.js';

const SPLIT = batching({
  maxBatchSize: 8,
  maxExecutionBatchSize: 4,
  enableLargeBatchSplitting: true,
  batchTimeoutMicros: 0,
});

/** `rows` rows of width 1 whose values are 0..rows-1. */
const counting = (rows: number): TensorMap => ({
  x: f32(
    [rows, 1],
    Array.from({ length: rows }, (_, i) => i),
  ),
});

function setup() {
  const exec = new FakeExecutor(0);
  const scheduler = new BatchScheduler({ clock: new ManualClock() });
  scheduler.addModel('m', { executor: exec, signature: SIGNATURE, batching: SPLIT });
  return { exec, scheduler };
}

describe('large-batch splitting', () => {
  it('splits a large request into batches of at most maxExecutionBatchSize and re-joins in order', async () => {
    const { exec, scheduler } = setup();
    const big = scheduler.enqueue('m', { inputs: counting(10), outputNames: [] });
    exec.setSlots(1);
    await exec.drain();
    assert.deepEqual(exec.batches.map(batchRows), [4, 4, 2]);
    const r = await big;
    assert.deepEqual(r.outputs.x_out.shape, [10, 1]);
    assert.deepEqual([...(r.outputs.x_out.data as Float32Array)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(r.timings.computeInferMicros, 6);
  });

  it('fails the whole request when one chunk fails, withdrawing its queued chunks', async () => {
    const { exec, scheduler } = setup();
    const big = scheduler.enqueue('m', { inputs: counting(10), outputNames: [] });
    exec.setSlots(1);
    await flush();
    exec.fail(exec.batches[0], new ServingError('INTERNAL', 'boom'));
    await assert.rejects(big, { message: 'boom' });
    assert.equal(scheduler.pending('m'), 0, 'the last chunk was withdrawn');
    // The slot freed by the failure may already have started the second chunk; it completes unseen.
    await exec.drain();
    assert.ok(exec.batches.length <= 2);
    assert.ok(
      exec.batches.every((b) => batchRows(b) === 4),
      'the last chunk never ran',
    );
  });

  it("leaves no listener on the caller's signal once the request has finished", async () => {
    const { exec, scheduler } = setup();
    const connection = new AbortController();
    const big = scheduler.enqueue('m', { inputs: counting(10), outputNames: [], signal: connection.signal });
    assert.ok(getEventListeners(connection.signal, 'abort').length > 0, 'listening while queued');
    exec.setSlots(1);
    await exec.drain();
    await big;
    assert.equal(getEventListeners(connection.signal, 'abort').length, 0);
  });

  it('slices rows as views', () => {
    const inputs = counting(6);
    const part = sliceRows(inputs, 2, 5);
    assert.deepEqual(part.x.shape, [3, 1]);
    assert.deepEqual([...(part.x.data as Float32Array)], [2, 3, 4]);
    assert.equal((part.x.data as Float32Array).buffer, (inputs.x.data as Float32Array).buffer);
  });
});
