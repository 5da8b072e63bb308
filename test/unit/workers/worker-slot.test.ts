import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMainThread } from 'node:worker_threads';
import { prepareTransfer, receiveTransfer } from '../../../src/workers/tensor-transfer.js';
import type { ModelDescriptor, WorkerConfig } from '../../../src/workers/worker-protocol.js';
import { WorkerSlot } from '../../../src/workers/worker-slot.js';
import { FAKE_RUN } from '../../fixtures/fake-runtime.js';
import { FAKE_RUNTIME, modelDir, x } from './pool-fixtures.js';

/*
 * One WorkerSlot on a real worker thread (the real worker entry, with the fake runtime):
 * tasks reach the thread and come back, runtime failures resolve as `{ ok: false }`, a dying
 * thread rejects the task and is reported once, and busy time follows the injected clock.
 */

const WORKER_ENTRY = new URL('../../../src/workers/worker.js', import.meta.url).href;
const CONFIG: WorkerConfig = {
  device: 'cpu',
  intraOpThreads: 1,
  runtimeModule: FAKE_RUNTIME.href,
  logLevel: 60,
  measureMemory: true,
};

function newSlot(now: () => number = () => 0) {
  const lost: WorkerSlot[] = [];
  const errors: unknown[] = [];
  const slot = new WorkerSlot({
    index: 7,
    filename: WORKER_ENTRY,
    config: CONFIG,
    now,
    onThreadLost: (s) => lost.push(s),
    onError: (_s, err) => errors.push(err),
  });
  return { slot, lost, errors };
}

const descriptor = (dir: string, key = 'm/1#1'): ModelDescriptor => ({
  key,
  platform: 'onnx',
  path: dir,
  label: "model 'm' version 1",
  evictable: false,
});

function runTask(model: ModelDescriptor, values: number[]) {
  const { tensors, transferList } = prepareTransfer({ x: x(values) });
  return { task: { kind: 'run' as const, model, inputs: tensors, outputNames: ['y'] }, transferList };
}

describe('WorkerSlot', () => {
  it('loads, runs and unloads a model on its thread', async () => {
    assert.ok(isMainThread);
    const { slot, lost } = newSlot();
    try {
      assert.equal(slot.index, 7);
      assert.equal(slot.free, true);
      const model = descriptor(modelDir());
      const loaded = await slot.call({ kind: 'load', model });
      assert.ok(loaded.ok);
      assert.equal(loaded.loaded, true);
      assert.deepEqual(
        loaded.signature.inputs.map((i) => i.name),
        ['x'],
      );
      // Loading again on the same thread is idempotent.
      const again = await slot.call({ kind: 'load', model });
      assert.ok(again.ok);
      assert.equal(again.loaded, false);

      const { task, transferList } = runTask(model, [1, 2, 3]);
      const ran = await slot.call(task, transferList);
      assert.ok(ran.ok);
      assert.equal(ran.loaded, false);
      assert.deepEqual([...(receiveTransfer(ran.outputs).y.data as Float32Array)], [2, 3, 4]);

      const unloaded = await slot.call({ kind: 'unload', key: model.key });
      assert.deepEqual(unloaded, { ok: true });
      assert.equal(slot.free, true);
      assert.deepEqual(lost, []);
    } finally {
      await slot.close();
    }
  });

  it('resolves runtime failures as { ok: false } with the runtime code; the thread lives on', async () => {
    const { slot, lost } = newSlot();
    try {
      const bad = await slot.call({ kind: 'load', model: descriptor(modelDir({ loadError: 'bad graph' })) });
      assert.deepEqual(bad, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'bad graph' } });
      const model = descriptor(modelDir(), 'good/1#2');
      const { task, transferList } = runTask(model, [FAKE_RUN.REJECT]);
      // The run loads the session it lacks first, then the runtime refuses the input.
      const refused = await slot.call(task, transferList);
      assert.deepEqual(refused, {
        ok: false,
        error: { code: 'INVALID_ARGUMENT', message: 'fake runtime rejected the input' },
      });
      assert.equal(slot.free, true);
      assert.deepEqual(lost, []);
    } finally {
      await slot.close();
    }
  });

  it('rejects the task of a thread that dies and reports the loss once; the replacement thread serves', async () => {
    const { slot, lost } = newSlot();
    try {
      const model = descriptor(modelDir());
      const { task, transferList } = runTask(model, [FAKE_RUN.EXIT]);
      await assert.rejects(slot.call(task, transferList));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(lost, [slot]);
      assert.equal(slot.free, true);
      // piscina replaced the thread: the session is gone, so the run loads it again.
      const next = runTask(model, [10]);
      const ran = await slot.call(next.task, next.transferList);
      assert.ok(ran.ok);
      assert.equal(ran.loaded, true);
      assert.deepEqual([...(receiveTransfer(ran.outputs).y.data as Float32Array)], [11]);
      assert.equal(lost.length, 1);
    } finally {
      await slot.close();
    }
  });

  it('counts busy time from the first task in flight to the last, on the injected clock', async () => {
    let t = 1000;
    const { slot } = newSlot(() => t);
    try {
      assert.equal(slot.busyMs(), 0);
      const dir = modelDir({ loadDelayMs: 50 });
      const first = slot.call({ kind: 'load', model: descriptor(dir) });
      const second = slot.call({ kind: 'load', model: descriptor(dir, 'm/1#other') });
      assert.equal(slot.free, false);
      t = 1100;
      assert.equal(slot.busyMs(), 100, 'time with a task in flight counts while it runs');
      await first;
      t = 1250;
      await second;
      assert.equal(slot.free, true);
      t = 5000; // idle time does not count
      assert.equal(slot.busyMs(), 250);
      t = 6000;
      await slot.call({ kind: 'unload', key: 'm/1#1' });
      assert.equal(slot.busyMs(), 250, 'a task that starts and ends at the same time adds nothing');
    } finally {
      await slot.close();
    }
  });

  it('queues tasks behind the running one inside piscina', async () => {
    const { slot } = newSlot();
    try {
      const model = descriptor(modelDir());
      await slot.call({ kind: 'load', model });
      const slow = runTask(model, [FAKE_RUN.SLEEP, 100]);
      const a = slot.call(slow.task, slow.transferList);
      const fast = runTask(model, [1]);
      const b = slot.call(fast.task, fast.transferList);
      assert.equal(slot.queued, 1, 'the second task waits for the thread');
      const [ra, rb] = await Promise.all([a, b]);
      assert.ok(ra.ok && rb.ok);
      assert.equal(slot.queued, 0);
    } finally {
      await slot.close();
    }
  });

  it('close() lets the task in flight finish; destroy() rejects it; neither reports a lost thread', async () => {
    const closing = newSlot();
    const model = descriptor(modelDir({ loadDelayMs: 50 }));
    const load = closing.slot.call({ kind: 'load', model });
    await closing.slot.close();
    assert.ok((await load).ok);
    assert.equal(closing.slot.free, false, 'a closed slot takes no more tasks');
    const destroying = newSlot();
    const pending = assert.rejects(
      destroying.slot.call({ kind: 'load', model: descriptor(modelDir({ loadDelayMs: 5000 })) }),
    );
    await destroying.slot.destroy();
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(closing.lost, []);
    assert.deepEqual(destroying.lost, []);
  });
});
