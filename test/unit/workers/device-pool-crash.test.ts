import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { FAKE_RUN } from '../../fixtures/fake-runtime.js';
import { fakePool, logLines, modelDir, untilFree, x } from './pool-fixtures.js';

const placement = (key: string, path: string, instances = 0) => ({
  key,
  platform: 'onnx' as const,
  path,
  instances,
});
const threadOf = (r: { outputs: Record<string, { data: unknown }> }) =>
  (r.outputs.thread.data as Int32Array)[0];

function crashError(key: string, verb: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, new RegExp(`crashed while ${verb} model '${key}'`));
    return true;
  };
}

describe('DevicePool worker crashes', () => {
  it('fails the batch whose thread exits, replaces the worker and reloads all its models', async (t) => {
    const pool = fakePool(1);
    t.after(() => pool.destroy());
    const a = modelDir();
    const b = modelDir();
    await pool.load(placement('a:1', a));
    await pool.load(placement('b:1', b));
    const before = threadOf(await pool.run('a:1', { x: x([1]) }, ['y']));

    await assert.rejects(pool.run('a:1', { x: x([FAKE_RUN.EXIT]) }, ['y']), crashError('a:1', 'running'));
    await untilFree(pool, 1);
    // Both models were restored on the replacement before anything asked for them.
    for (const dir of [a, b]) {
      const loads = logLines(dir, 'loads.log');
      assert.equal(loads.length, 2);
      assert.notEqual(loads[1], before);
    }
    const after = await pool.run('b:1', { x: x([7]) }, ['y']);
    assert.deepEqual([...(after.outputs.y.data as Float32Array)], [8]);
    assert.equal(threadOf(after), logLines(b, 'loads.log')[1]);
    assert.equal(pool.stats().restarts, 1);
  });

  it('treats an uncaught exception in the worker as a crash', async (t) => {
    const pool = fakePool(1);
    t.after(() => pool.destroy());
    await pool.load(placement('m:1', modelDir()));
    await assert.rejects(
      pool.run('m:1', { x: x([FAKE_RUN.THROW_UNCAUGHT]) }, ['y']),
      crashError('m:1', 'running'),
    );
    const ok = await pool.run('m:1', { x: x([1]) }, ['y']);
    assert.deepEqual([...(ok.outputs.y.data as Float32Array)], [2]);
  });

  it('keeps other work going while one worker dies', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    await pool.load(placement('m:1', modelDir()));
    const slow = pool.run('m:1', { x: x([FAKE_RUN.SLEEP, 100]) }, ['y']);
    const doomed = pool.run('m:1', { x: x([FAKE_RUN.EXIT]) }, ['y']);
    await assert.rejects(doomed, crashError('m:1', 'running'));
    const result = await slow;
    assert.deepEqual([...(result.outputs.y.data as Float32Array)], [FAKE_RUN.SLEEP + 1, 101]);
    await untilFree(pool, 2);
    assert.equal(pool.stats().perWorker.filter((w) => w.models === 1).length, 2);
  });
});

describe('DevicePool load failures', () => {
  it('rejects with the runtime error and stays usable', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    await assert.rejects(pool.load(placement('bad:1', modelDir({ loadError: 'no model.onnx in dir' }))), {
      name: 'ServingError',
      code: 'INVALID_ARGUMENT',
      message: 'no model.onnx in dir',
    });
    await assert.rejects(pool.run('bad:1', { x: x([1]) }, ['y']), { code: 'NOT_FOUND' });
    await pool.load(placement('bad:1', modelDir()));
    const ok = await pool.run('bad:1', { x: x([1]) }, ['y']);
    assert.deepEqual([...(ok.outputs.y.data as Float32Array)], [2]);
  });

  it('unloads the instances that did load when another fails', async (t) => {
    const pool = fakePool(2);
    t.after(() => pool.destroy());
    const dir = modelDir({ onlyOneLoadSucceeds: true });
    await assert.rejects(pool.load(placement('half:1', dir)), { code: 'INVALID_ARGUMENT' });
    assert.equal(logLines(dir, 'loads.log').length, 1);
    assert.deepEqual(logLines(dir, 'disposes.log'), logLines(dir, 'loads.log'));
    assert.deepEqual(
      pool.stats().perWorker.map((w) => w.models),
      [0, 0],
    );
  });

  it('reports a thread that dies while loading, and recovers', async (t) => {
    const pool = fakePool(1);
    t.after(() => pool.destroy());
    await assert.rejects(
      pool.load(placement('boom:1', modelDir({ loadCrash: true }))),
      crashError('boom:1', 'loading'),
    );
    await pool.load(placement('ok:1', modelDir()));
    const ok = await pool.run('ok:1', { x: x([1]) }, ['y']);
    assert.deepEqual([...(ok.outputs.y.data as Float32Array)], [2]);
  });
});

describe('DevicePool shutdown', () => {
  it('close waits for running batches, then refuses work', async () => {
    const pool = fakePool(1);
    await pool.load(placement('m:1', modelDir()));
    const running = pool.run('m:1', { x: x([FAKE_RUN.SLEEP, 50]) }, ['y']);
    const closed = pool.close();
    assert.equal(pool.freeSlots(), 0);
    await assert.rejects(pool.run('m:1', { x: x([1]) }, ['y']), { code: 'UNAVAILABLE' });
    const result = await running;
    assert.deepEqual([...(result.outputs.y.data as Float32Array)], [FAKE_RUN.SLEEP + 1, 51]);
    await closed;
  });

  it('destroy fails running batches with UNAVAILABLE', async () => {
    const pool = fakePool(1);
    await pool.load(placement('m:1', modelDir()));
    const running = pool.run('m:1', { x: x([FAKE_RUN.SLEEP, 5000]) }, ['y']);
    const failed = assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof ServingError);
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /shut down while running model 'm:1'/);
      return true;
    });
    await pool.destroy();
    await failed;
  });
});
