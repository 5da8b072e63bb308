import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { DevicePool } from '../../../src/workers/device-pool.js';
import { FAKE_MEMORY_BYTES, FAKE_RUN } from '../../fixtures/fake-runtime.js';
import { FAKE_RUNTIME, fakePool, logLines, modelDir, untilFree, x } from './pool-fixtures.js';

const placement = (key: string, path: string, instances = 0) => ({
  key,
  platform: 'onnx' as const,
  path,
  instances,
});

describe('DevicePool options', () => {
  it('names the invalid option', () => {
    const base = { device: 'cpu', workers: 1, intraOpThreads: 1, runtimeModule: FAKE_RUNTIME };
    assert.throws(
      () => new DevicePool({ ...base, workers: 0 }),
      /devices\.cpu\.workers must be a positive integer/,
    );
    assert.throws(() => new DevicePool({ ...base, workers: 1.5 }), /devices\.cpu\.workers/);
    assert.throws(
      () => new DevicePool({ ...base, device: 'cuda:1', intraOpThreads: -1 }),
      /devices\.cuda:1\.intraOpThreads must be a positive integer/,
    );
    assert.throws(() => new DevicePool({ ...base, device: 'gpu' }), /device must be 'cpu' or 'cuda:N'/);
    assert.throws(
      () => new DevicePool({ ...base, runtimeModule: './rel.js' }),
      /runtimeModule must be an absolute/,
    );
  });
});

describe('DevicePool load and run', () => {
  it('loads on every worker by default and reports memory for all instances', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    const dir = modelDir();
    const loaded = await pool.load(placement('m:1', dir));
    assert.deepEqual(
      loaded.signature.inputs.map((s) => s.name),
      ['x'],
    );
    assert.equal(loaded.memoryBytes, 2 * FAKE_MEMORY_BYTES);
    assert.equal(new Set(logLines(dir, 'loads.log')).size, 2);
    assert.deepEqual(
      pool.stats().perWorker.map((w) => w.models),
      [1, 1],
    );
    assert.equal(pool.freeSlotsFor('m:1'), 2);
  });

  it('places `instances` sessions on the least loaded workers', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    const a = modelDir();
    const b = modelDir();
    await pool.load(placement('a:1', a, 1));
    await pool.load(placement('b:1', b, 1));
    assert.equal(logLines(a, 'loads.log').length, 1);
    assert.notEqual(logLines(a, 'loads.log')[0], logLines(b, 'loads.log')[0]);
    assert.equal(pool.freeSlotsFor('a:1'), 1);
    const out = await pool.run('b:1', { x: x([1]) }, ['y']);
    assert.equal((out.outputs.thread.data as Int32Array)[0], logLines(b, 'loads.log')[0]);
  });

  it('runs two batches at once on two workers', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    await pool.load(placement('m:1', modelDir()));
    let freed = 0;
    pool.onSlotFree(() => freed++);
    const first = pool.run('m:1', { x: x([FAKE_RUN.SLEEP, 50]) }, ['y']);
    const second = pool.run('m:1', { x: x([FAKE_RUN.SLEEP, 50]) }, ['y']);
    assert.equal(pool.freeSlots(), 0);
    assert.equal(pool.stats().busy, 2);
    const [r1, r2] = await Promise.all([first, second]);
    const thread = (r: typeof r1) => (r.outputs.thread.data as Int32Array)[0];
    assert.notEqual(thread(r1), thread(r2));
    assert.equal(pool.freeSlots(), 2);
    assert.equal(freed, 2);
  });

  it('computes outputs and reports worker timings', async (t) => {
    const pool = fakePool(1);
    t.after(() => pool.destroy());
    await pool.load(placement('m:1', modelDir()));
    const result = await pool.run('m:1', { x: x([1, 2, 3, 4], 2) }, ['y']);
    assert.deepEqual([...(result.outputs.y.data as Float32Array)], [2, 3, 4, 5]);
    assert.deepEqual(result.outputs.y.shape, [2, 2]);
    for (const v of Object.values(result.timings)) assert.ok(Number.isInteger(v) && v >= 0);
  });

  it('transfers input buffers that it covers exactly, copies views, and receives standalone outputs', async (t) => {
    const pool = fakePool(1);
    t.after(() => pool.destroy());
    await pool.load(placement('m:1', modelDir()));
    const whole = Float32Array.from([1, 2]);
    const result = await pool.run('m:1', { x: { dtype: 'float32', shape: [1, 2], data: whole } }, ['y']);
    assert.equal(whole.buffer.byteLength, 0, 'the caller’s buffer is detached (moved, not cloned)');
    const y = result.outputs.y.data as Float32Array;
    assert.equal(y.byteOffset, 0);
    assert.equal(y.buffer.byteLength, y.byteLength);

    const slab = Float32Array.from([9, 9, 5, 6]);
    const view = slab.subarray(2);
    const viewed = await pool.run('m:1', { x: { dtype: 'float32', shape: [1, 2], data: view } }, ['y']);
    assert.deepEqual([...slab], [9, 9, 5, 6], 'a view into a larger buffer is copied, not detached');
    assert.deepEqual([...(viewed.outputs.y.data as Float32Array)], [6, 7]);
  });

  it('rejects a runtime error for that batch only and keeps the worker', async (t) => {
    const pool = fakePool(1);
    t.after(() => pool.destroy());
    await pool.load(placement('m:1', modelDir()));
    await assert.rejects(pool.run('m:1', { x: x([FAKE_RUN.REJECT]) }, ['y']), (err: unknown) => {
      assert.ok(err instanceof ServingError);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, /fake runtime rejected the input/);
      return true;
    });
    const ok = await pool.run('m:1', { x: x([1]) }, ['y']);
    assert.deepEqual([...(ok.outputs.y.data as Float32Array)], [2]);
    assert.equal(pool.stats().restarts, 0);
  });

  it('rejects unknown keys with NOT_FOUND and a duplicate load with ALREADY_EXISTS', async (t) => {
    const pool = fakePool(1);
    t.after(() => pool.destroy());
    const dir = modelDir();
    await assert.rejects(pool.run('nope:1', { x: x([1]) }, ['y']), { code: 'NOT_FOUND' });
    await pool.load(placement('m:1', dir));
    await assert.rejects(pool.load(placement('m:1', dir)), { code: 'ALREADY_EXISTS' });
    await assert.rejects(pool.load({ ...placement('n:1', dir), instances: -1 }), {
      code: 'INVALID_ARGUMENT',
    });
  });

  it('unload disposes every session and forgets the key', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    const dir = modelDir();
    await pool.load(placement('m:1', dir));
    await pool.unload('m:1');
    assert.deepEqual(new Set(logLines(dir, 'disposes.log')), new Set(logLines(dir, 'loads.log')));
    assert.equal(logLines(dir, 'disposes.log').length, 2);
    await assert.rejects(pool.run('m:1', { x: x([1]) }, ['y']), { code: 'NOT_FOUND' });
    await pool.unload('m:1');
    await pool.load(placement('m:1', dir));
    await untilFree(pool, 2);
  });

  it('unload during a load aborts the load and disposes what it loaded', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    const dir = modelDir({ loadDelayMs: 50 });
    const loading = pool.load(placement('m:1', dir));
    const failed = assert.rejects(loading, { code: 'ABORTED' });
    await pool.unload('m:1');
    assert.equal(logLines(dir, 'disposes.log').length, 2);
    await failed;
    await assert.rejects(pool.run('m:1', { x: x([1]) }, ['y']), { code: 'NOT_FOUND' });
  });

  it('measures busy time with the injected clock', async (t) => {
    let now = 0;
    const pool = fakePool(1, () => now);
    t.after(() => pool.destroy());
    await pool.load(placement('m:1', modelDir()));
    now = 1000;
    const running = pool.run('m:1', { x: x([FAKE_RUN.SLEEP, 20]) }, ['y']);
    now = 3000;
    await running;
    now = 4000;
    const stats = pool.stats();
    assert.equal(stats.busySeconds, 2);
    assert.equal(stats.utilization, 0.5);
    assert.equal(stats.perWorker[0].running, 0);
  });
});

describe('DevicePool placement', () => {
  it('places a one-instance model on the worker holding the fewest measured bytes', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    await pool.load(placement('big:1', modelDir({ memoryBytes: 10_000 }), 1));
    await pool.load(placement('small:1', modelDir({ memoryBytes: 100 }), 1));
    // By model count the workers tie (one each); by bytes the second worker is far lighter.
    await pool.load(placement('small:2', modelDir({ memoryBytes: 100 }), 1));
    assert.deepEqual(pool.workerBytes(), [10_000, 200]);
  });
});
