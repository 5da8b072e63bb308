import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchScheduler, type ExecutedBatch } from '../../../src/batching/scheduler.js';
import { batching, FakeExecutor, flush, ManualClock, rowsOf, SIGNATURE } from './fakes.js';

describe('ExecutedBatch records', () => {
  it('carry the version and device of the key, so metrics need no lookup', async () => {
    const batches: ExecutedBatch[] = [];
    const scheduler = new BatchScheduler({ clock: new ManualClock(), onBatch: (b) => batches.push(b) });
    const gpu = new FakeExecutor(1, 'cuda:1');
    const cpu = new FakeExecutor(1, 'cpu');
    const options = batching({ batchTimeoutMicros: 0 });
    scheduler.addModel('m/7#1', {
      executor: gpu,
      signature: SIGNATURE,
      batching: options,
      modelName: 'm',
      version: 7,
    });
    scheduler.addModel('k#2', { executor: cpu, signature: SIGNATURE, batching: options });
    const a = scheduler.enqueue('m/7#1', { inputs: rowsOf(3), outputNames: ['x_out'] });
    const b = scheduler.enqueue('k#2', { inputs: rowsOf(1), outputNames: ['x_out'] });
    await flush();
    gpu.complete(gpu.batches[0]);
    cpu.complete(cpu.batches[0]);
    await Promise.all([a, b]);
    const byKey = new Map(batches.map((r) => [r.key, r]));
    assert.deepEqual(
      { ...byKey.get('m/7#1'), timings: undefined },
      {
        key: 'm/7#1',
        modelName: 'm',
        version: 7,
        device: 'cuda:1',
        rows: 3,
        paddedRows: 3,
        timings: undefined,
      },
    );
    // A registration that names no version records 0, and the key as the model name.
    const other = byKey.get('k#2');
    assert.equal(other?.version, 0);
    assert.equal(other?.modelName, 'k#2');
    assert.equal(other?.device, 'cpu');
  });
});
