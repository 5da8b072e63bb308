import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Signature } from '../../../src/core/signature.js';
import { ServableManager } from '../../../src/main/lifecycle/manager.js';
import { servingPlan } from '../../../src/main/lifecycle/serving-plan.js';
import { FakeClock, FakeDirs, FakeLoader, modelConfig, SIGNATURE } from './fakes.js';

const sig = (inputs: [string, Signature['inputs'][number]['dtype']][]): Signature => ({
  inputs: inputs.map(([name, dtype]) => ({ name, dtype, shape: [-1] })),
  outputs: [
    { name: 'b', dtype: 'float32', shape: [-1] },
    { name: 'a', dtype: 'int64', shape: [-1] },
  ],
  batched: true,
  methodName: 'tensorflow/serving/predict',
});

describe('servingPlan', () => {
  it('reads JSON numbers exactly when some input has an integer dtype', () => {
    assert.equal(servingPlan('onnx', sig([['x', 'float32']])).exactJsonNumbers, false);
    assert.equal(
      servingPlan(
        'onnx',
        sig([
          ['x', 'float32'],
          ['n', 'int32'],
        ]),
      ).exactJsonNumbers,
      true,
    );
    assert.equal(
      servingPlan(
        'tfjs',
        sig([
          ['s', 'string'],
          ['f', 'bool'],
        ]),
      ).exactJsonNumbers,
      false,
    );
    assert.equal(servingPlan('tfjs', sig([['u', 'uint8']])).exactJsonNumbers, true);
  });

  it('checks strings for NUL bytes only on a runtime that truncates them and with a string input', () => {
    assert.equal(servingPlan('onnx', sig([['s', 'string']])).checkNulStrings, true);
    assert.equal(servingPlan('onnx', sig([['x', 'float32']])).checkNulStrings, false);
    assert.equal(servingPlan('tfjs', sig([['s', 'string']])).checkNulStrings, false);
  });

  it('lists every output in signature order, frozen', () => {
    const plan = servingPlan('onnx', sig([['x', 'float32']]));
    assert.deepEqual(plan.outputNames, ['b', 'a']);
    assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.outputNames));
  });

  it('is computed once per loaded version: every handle of it carries the same plan', async () => {
    const loader = new FakeLoader();
    const dirs = new FakeDirs();
    dirs.set('/models/m', ['1', '2']);
    const manager = new ServableManager({
      loader,
      clock: new FakeClock(),
      pollIntervalMs: 0,
      listDir: dirs.listDir,
      transitionPolicy: 'availability-preserving',
    });
    await manager.setModels([modelConfig('m', { versionPolicy: { kind: 'all' } })]);
    const first = manager.acquire('m', { kind: 'latest' });
    const second = manager.acquire('m', { kind: 'latest' });
    const older = manager.acquire('m', { kind: 'version', version: 1 });
    try {
      assert.equal(first.plan, second.plan, 'the same object, not one per request');
      assert.notEqual(first.plan, older.plan, 'each version has its own');
      assert.deepEqual(first.plan, servingPlan('onnx', SIGNATURE));
    } finally {
      for (const h of [first, second, older]) h.release();
    }
    await manager.close();
  });
});
