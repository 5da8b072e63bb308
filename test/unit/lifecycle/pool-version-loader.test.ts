import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BATCHING_OFF, DEFAULT_BATCHING } from '../../../src/batching/batching-options.js';
import { BatchScheduler } from '../../../src/batching/scheduler.js';
import { ServingError } from '../../../src/core/errors.js';
import type { LoadedVersionInfo } from '../../../src/main/lifecycle/pool-version-loader.js';
import { PoolVersionLoader } from '../../../src/main/lifecycle/pool-version-loader.js';
import type { WarmupRunner } from '../../../src/main/lifecycle/warmup/warmup-runner.js';
import { MemoryBudget, type ReservationInfo } from '../../../src/main/tenancy/memory-budget.js';
import type { DevicePool } from '../../../src/workers/device-pool.js';
import { FAKE_MEMORY_BYTES } from '../../fixtures/fake-runtime.js';
import { fakePool, logLines, modelDir, x } from '../workers/pool-fixtures.js';
import { modelConfig } from './fakes.js';

/*
 * PoolVersionLoader over a real DevicePool (two worker threads running the fault-injecting
 * fake runtime), a real BatchScheduler and a real MemoryBudget: what a load registers, what a
 * failed load leaves behind (nothing), and what an unload releases.
 */

const fakeModel = (name: string, overrides: Parameters<typeof modelConfig>[1] = {}) =>
  modelConfig(name, { platform: 'tfjs', batching: DEFAULT_BATCHING, ...overrides });

/** Bytes of a fake version directory as estimateModelBytes counts them (its fake.json). */
const dirBytes = (dir: string) => statSync(join(dir, 'fake.json')).size;

describe('PoolVersionLoader', () => {
  const pool = fakePool(2);
  const pools = new Map<string, DevicePool>([['cpu', pool]]);
  const batches: { readonly modelName: string }[] = [];
  const scheduler = new BatchScheduler({ onBatch: (b) => batches.push(b) });
  after(async () => {
    await scheduler.close();
    await pool.close();
  });

  it('loads onto every worker, registers the version with the scheduler and unloads it again', async () => {
    const loader = new PoolVersionLoader(pools, scheduler);
    const dir = modelDir();
    const model = fakeModel('plus_one');
    const v = await loader.load(model, 3, dir);
    assert.match(v.key, /^plus_one\/3#\d+$/);
    assert.equal(v.platform, 'tfjs');
    assert.deepEqual(
      v.signature.inputs.map((i) => i.name),
      ['x'],
    );
    assert.equal(v.signature.batched, true);
    // instances 0 = every worker holds a session; the fake runtime measures FAKE_MEMORY_BYTES each.
    assert.equal(logLines(dir, 'loads.log').length, 2);
    assert.equal(v.measuredBytes, 2 * FAKE_MEMORY_BYTES);
    assert.equal(v.memoryBytes, 2 * FAKE_MEMORY_BYTES);
    assert.equal(v.estimatedBytes, 2 * dirBytes(dir));

    const result = await scheduler.enqueue(v.key, { inputs: { x: x([1, 2]) }, outputNames: ['y'] });
    assert.deepEqual([...(result.outputs.y.data as Float32Array)], [2, 3]);
    assert.equal(batches.at(-1)?.modelName, 'plus_one');

    await loader.unload(model, 3, v);
    assert.equal(logLines(dir, 'disposes.log').length, 2);
    await assert.rejects(scheduler.enqueue(v.key, { inputs: { x: x([1]) }, outputNames: [] }), {
      code: 'NOT_FOUND',
    });
  });

  it('gives every load of the same version a new key', async () => {
    const loader = new PoolVersionLoader(pools, scheduler);
    const model = fakeModel('twice');
    const a = await loader.load(model, 1, modelDir());
    const b = await loader.load(model, 1, modelDir());
    assert.notEqual(a.key, b.key);
    await loader.unload(model, 1, a);
    // The second load's queue is still served after the first one is gone.
    const r = await scheduler.enqueue(b.key, { inputs: { x: x([5]) }, outputNames: ['y'] });
    assert.deepEqual([...(r.outputs.y.data as Float32Array)], [6]);
    await loader.unload(model, 1, b);
  });

  it('places a version on `instances` workers and estimates its memory for those only', async () => {
    const loader = new PoolVersionLoader(pools, scheduler);
    const dir = modelDir();
    const model = fakeModel('one_instance', { instances: 1 });
    const v = await loader.load(model, 1, dir);
    assert.equal(logLines(dir, 'loads.log').length, 1);
    assert.equal(v.estimatedBytes, dirBytes(dir));
    assert.equal(v.measuredBytes, FAKE_MEMORY_BYTES);
    await loader.unload(model, 1, v);
  });

  it('fails with FAILED_PRECONDITION for a device without a pool, loading nothing', async () => {
    const loader = new PoolVersionLoader(pools, scheduler);
    const dir = modelDir();
    await assert.rejects(loader.load(fakeModel('gpu', { device: 'cuda:0' }), 1, dir), (err: unknown) => {
      assert.ok(err instanceof ServingError);
      assert.equal(err.code, 'FAILED_PRECONDITION');
      assert.equal(err.message, "Device 'cuda:0' has no worker pool");
      return true;
    });
    assert.deepEqual(logLines(dir, 'loads.log'), []);
  });

  describe('with a memory budget', () => {
    it('reserves before loading, charges the measurement and releases on unload', async () => {
      const budget = new MemoryBudget({ devices: { cpu: 1_000_000 }, tenants: { acme: 1_000_000 } });
      const reports: [LoadedVersionInfo, ReservationInfo][] = [];
      const loader = new PoolVersionLoader(pools, scheduler, budget, (info, r) => reports.push([info, r]));
      const dir = modelDir();
      const model = fakeModel('budgeted', { tenant: 'acme' });
      const v = await loader.load(model, 2, dir);
      const reservation = budget.get(v.key);
      assert.deepEqual(reservation, {
        key: v.key,
        device: 'cpu',
        tenant: 'acme',
        estimatedBytes: 2 * dirBytes(dir),
        measuredBytes: 2 * FAKE_MEMORY_BYTES,
        chargedBytes: 2 * FAKE_MEMORY_BYTES,
      });
      assert.deepEqual(reports, [
        [{ model: 'budgeted', version: 2, device: 'cpu', tenant: 'acme' }, reservation],
      ]);
      await loader.unload(model, 2, v);
      assert.equal(budget.get(v.key), undefined);
      assert.equal(budget.snapshot().reservations.length, 0);
    });

    it('rejects a version over the budget with a permanent RESOURCE_EXHAUSTED before loading it', async () => {
      const budget = new MemoryBudget({ devices: { cpu: 1 } });
      const loader = new PoolVersionLoader(pools, scheduler, budget);
      const dir = modelDir();
      await assert.rejects(loader.load(fakeModel('too_big'), 1, dir), (err: unknown) => {
        assert.ok(err instanceof ServingError);
        assert.equal(err.code, 'RESOURCE_EXHAUSTED');
        assert.equal(err.permanent, true);
        assert.match(err.message, /^Memory budget of device 'cpu' exceeded: budget 1 bytes/);
        return true;
      });
      assert.deepEqual(logLines(dir, 'loads.log'), [], 'no worker loaded a session');
      assert.equal(budget.snapshot().reservations.length, 0);
    });

    it('releases the reservation when the runtime fails the load', async () => {
      const budget = new MemoryBudget({ devices: { cpu: 1_000_000 } });
      const loader = new PoolVersionLoader(pools, scheduler, budget);
      await assert.rejects(loader.load(fakeModel('broken'), 1, modelDir({ loadError: 'bad graph' })), {
        code: 'INVALID_ARGUMENT',
        message: /bad graph/,
      });
      assert.equal(budget.snapshot().reservations.length, 0);
      assert.equal(scheduler.pending(), 0);
    });
  });

  it('unloads the version and releases its memory when its warmup fails', async () => {
    const budget = new MemoryBudget({ devices: { cpu: 1_000_000 } });
    const warmupFailure = new ServingError('DEADLINE_EXCEEDED', 'warmup took too long');
    const keys: string[] = [];
    // A fake warmup: the point is its failure, after the version was registered.
    const warmup = {
      run: async (target: { key: string }) => {
        keys.push(target.key);
        throw warmupFailure;
      },
    } as unknown as WarmupRunner;
    const loader = new PoolVersionLoader(pools, scheduler, budget, undefined, warmup);
    const dir = modelDir();
    await assert.rejects(loader.load(fakeModel('cold'), 1, dir), (err) => err === warmupFailure);
    assert.equal(keys.length, 1);
    assert.equal(logLines(dir, 'disposes.log').length, 2, 'both sessions were disposed');
    await assert.rejects(scheduler.enqueue(keys[0], { inputs: { x: x([1]) }, outputNames: [] }), {
      code: 'NOT_FOUND',
    });
    assert.equal(budget.snapshot().reservations.length, 0);
  });

  it('rebatch() applies new batching options to the loaded versions of that model only', async () => {
    const loader = new PoolVersionLoader(pools, scheduler);
    const model = fakeModel('rebatched', {
      batching: { ...DEFAULT_BATCHING, maxBatchSize: 4, maxExecutionBatchSize: 4 },
    });
    const other = fakeModel('untouched', {
      batching: { ...DEFAULT_BATCHING, maxBatchSize: 4, maxExecutionBatchSize: 4 },
    });
    const v = await loader.load(model, 1, modelDir());
    const w = await loader.load(other, 1, modelDir());
    const three = { inputs: { x: x([1, 2, 3], 3) }, outputNames: ['y'] };
    assert.equal((await scheduler.enqueue(v.key, three)).batchSize, 3);
    loader.rebatch({ ...model, batching: BATCHING_OFF });
    // Batching off: a 3-row request is over max_batch_size 1 (no splitting).
    await assert.rejects(scheduler.enqueue(v.key, three), { code: 'INVALID_ARGUMENT' });
    assert.equal((await scheduler.enqueue(w.key, three)).batchSize, 3);
    await loader.unload(model, 1, v);
    await loader.unload(other, 1, w);
  });
});
