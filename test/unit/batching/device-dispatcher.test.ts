import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchScheduler } from '../../../src/batching/scheduler.js';
import type { BatchCandidate, SelectionPolicy } from '../../../src/batching/selection-policy.js';
import {
  batching,
  batchRows,
  FakeExecutor,
  flush,
  ManualClock,
  PlacedFakeExecutor,
  rowsOf,
  SIGNATURE,
} from './fakes.js';

const NOW = batching({ batchTimeoutMicros: 0 });

describe('DeviceDispatcher', () => {
  it('round-robins between models sharing one executor, so both progress', async () => {
    const exec = new FakeExecutor(0);
    const scheduler = new BatchScheduler({ clock: new ManualClock() });
    const one = batching({ maxBatchSize: 1, maxExecutionBatchSize: 1, batchTimeoutMicros: 0 });
    scheduler.addModel('a', { executor: exec, signature: SIGNATURE, batching: one });
    scheduler.addModel('b', { executor: exec, signature: SIGNATURE, batching: one });
    const all = [];
    for (let i = 0; i < 6; i++) all.push(scheduler.enqueue('a', { inputs: rowsOf(1), outputNames: [] }));
    for (let i = 0; i < 3; i++) all.push(scheduler.enqueue('b', { inputs: rowsOf(1), outputNames: [] }));
    exec.setSlots(1);
    await exec.drain();
    await Promise.all(all);
    assert.deepEqual(
      exec.batches.map((b) => b.modelKey),
      ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'a', 'a'],
    );
  });

  it('runs models on different executors independently', async () => {
    const cpu = new FakeExecutor(1, 'cpu');
    const gpu = new FakeExecutor(0, 'cuda:0');
    const scheduler = new BatchScheduler({ clock: new ManualClock() });
    scheduler.addModel('a', { executor: cpu, signature: SIGNATURE, batching: NOW });
    scheduler.addModel('b', { executor: gpu, signature: SIGNATURE, batching: NOW });
    const a = scheduler.enqueue('a', { inputs: rowsOf(1), outputNames: [] });
    void scheduler.enqueue('b', { inputs: rowsOf(1), outputNames: [] });
    await flush();
    assert.equal(cpu.batches.length, 1);
    assert.equal(gpu.batches.length, 0);
    await cpu.drain();
    await a;
  });

  it('starts at most numBatchThreads batches of one model even with free device slots', async () => {
    const exec = new FakeExecutor(4);
    const scheduler = new BatchScheduler({ clock: new ManualClock() });
    scheduler.addModel('m', {
      executor: exec,
      signature: SIGNATURE,
      batching: { ...NOW, numBatchThreads: 2 },
    });
    const first = scheduler.enqueue('m', { inputs: rowsOf(1), outputNames: [] });
    await flush();
    const second = scheduler.enqueue('m', { inputs: rowsOf(1), outputNames: [] });
    await flush();
    const queued = [1, 2].map(() => scheduler.enqueue('m', { inputs: rowsOf(1), outputNames: [] }));
    await flush();
    assert.equal(exec.open.length, 2);
    assert.equal(exec.freeSlots(), 2);
    assert.deepEqual(exec.batches.map(batchRows), [1, 1]);
    exec.complete(exec.batches[0]);
    await first;
    await flush();
    assert.deepEqual(exec.batches.map(batchRows), [1, 1, 2]);
    queued.push(second);
    await exec.drain();
    await Promise.all(queued);
  });

  it('lets a batch grow while the only worker holding its model is busy, even with another worker free', async () => {
    // Worker 0 holds A and C, worker 1 holds B: while A runs, C has no free slot.
    const exec = new PlacedFakeExecutor(2, { a: [0], b: [1], c: [0] });
    const scheduler = new BatchScheduler({ clock: new ManualClock() });
    for (const key of ['a', 'b', 'c'])
      scheduler.addModel(key, { executor: exec, signature: SIGNATURE, batching: NOW });
    const a = scheduler.enqueue('a', { inputs: rowsOf(1), outputNames: [] });
    await flush();
    const cs = [];
    for (let i = 0; i < 5; i++) {
      cs.push(scheduler.enqueue('c', { inputs: rowsOf(1), outputNames: [] }));
      await flush();
    }
    assert.deepEqual(
      exec.batches.map((b) => b.modelKey),
      ['a'],
      'c waits for worker 0 instead of queueing inside the pool',
    );
    assert.equal(exec.freeSlots(), 1);
    // The free worker still serves the model placed on it: round robin skips c.
    const b = scheduler.enqueue('b', { inputs: rowsOf(1), outputNames: [] });
    await flush();
    assert.deepEqual(
      exec.batches.map((x) => `${x.modelKey}@${x.worker}`),
      ['a@0', 'b@1'],
    );
    exec.complete(exec.batches[0]);
    await flush();
    assert.deepEqual(
      exec.batches.map((x) => `${x.modelKey}:${batchRows(x)}`),
      ['a:1', 'b:1', 'c:5'],
      'the slot freeing woke the dispatcher, and c ran as one batch',
    );
    for (const batch of exec.batches.slice(1)) exec.complete(batch);
    await Promise.all([a, b, ...cs]);
    assert.equal(scheduler.pending(), 0);
  });

  it('uses a pluggable selection policy', async () => {
    const seen: string[][] = [];
    const preferB: SelectionPolicy = {
      select<C extends BatchCandidate>(ready: readonly C[]) {
        seen.push(ready.map((c) => c.key));
        return ready.find((c) => c.key === 'b') ?? ready[0];
      },
    };
    const exec = new FakeExecutor(0);
    const scheduler = new BatchScheduler({ clock: new ManualClock(), selectionPolicy: () => preferB });
    scheduler.addModel('a', { executor: exec, signature: SIGNATURE, batching: NOW });
    scheduler.addModel('b', { executor: exec, signature: SIGNATURE, batching: NOW });
    const all = [
      scheduler.enqueue('a', { inputs: rowsOf(1), outputNames: [] }),
      scheduler.enqueue('b', { inputs: rowsOf(1), outputNames: [] }),
    ];
    exec.setSlots(1);
    await exec.drain();
    await Promise.all(all);
    assert.deepEqual(
      exec.batches.map((b) => b.modelKey),
      ['b', 'a'],
    );
    assert.deepEqual(seen[0], ['a', 'b']);
  });
});

describe('tenant fairness inside a model queue', () => {
  it('a tenant sending 10x the requests of another does not starve it', async () => {
    const exec = new FakeExecutor(0);
    const scheduler = new BatchScheduler({ clock: new ManualClock() });
    scheduler.addModel('m', { executor: exec, signature: SIGNATURE, batching: NOW });
    const a = Array.from({ length: 40 }, () =>
      scheduler.enqueue('m', { inputs: rowsOf(1, 1), outputNames: [], tenant: 'A' }),
    );
    const b = Array.from({ length: 4 }, () =>
      scheduler.enqueue('m', { inputs: rowsOf(1, 2), outputNames: [], tenant: 'B' }),
    );
    exec.setSlots(1);
    await flush();
    const rowsByValue = (values: Float32Array) => [...values].filter((_, i) => i % 2 === 0);
    const first = rowsByValue(exec.batches[0].inputs.x.data as Float32Array);
    assert.equal(first.length, 8);
    assert.equal(first.filter((v) => v === 2).length, 4, `first batch ${first}`);
    await exec.drain();
    const bResults = await Promise.all(b);
    assert.ok(bResults.every((r) => (r.outputs.x_out.data as Float32Array)[0] === 2));
    await Promise.all(a);
  });

  it('honours tenant weights', async () => {
    const exec = new FakeExecutor(0);
    const scheduler = new BatchScheduler({ clock: new ManualClock() });
    scheduler.setTenantWeight('A', 3);
    scheduler.addModel('m', { executor: exec, signature: SIGNATURE, batching: NOW });
    const all = [];
    for (let i = 0; i < 20; i++) {
      all.push(scheduler.enqueue('m', { inputs: rowsOf(1, 1), outputNames: [], tenant: 'A' }));
      all.push(scheduler.enqueue('m', { inputs: rowsOf(1, 2), outputNames: [], tenant: 'B' }));
    }
    exec.setSlots(1);
    await flush();
    const first = [...(exec.batches[0].inputs.x.data as Float32Array)].filter((_, i) => i % 2 === 0);
    assert.equal(first.filter((v) => v === 1).length, 6);
    assert.equal(first.filter((v) => v === 2).length, 2);
    await exec.drain();
    await Promise.all(all);
  });
});
