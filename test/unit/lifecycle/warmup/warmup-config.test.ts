import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../../src/core/errors.js';
import type { Signature } from '../../../../src/core/signature.js';
import { buildConfig } from '../../../../src/main/config/load-config.js';
import { DEFAULT_WARMUP } from '../../../../src/main/config/warmup-options.js';
import { generateInputs } from '../../../../src/main/lifecycle/warmup/warmup-inputs.js';

describe('warmup config (YAML)', () => {
  it('defaults follow TF Serving: on, one pass, at most 1000 records', () => {
    const c = buildConfig({ models: [{ name: 'm', base_path: '/m' }] }, 'test', '/');
    assert.deepEqual(c.models[0].warmup, { ...DEFAULT_WARMUP, declared: [] });
  });

  it('model keys override model_defaults; num_request_iterations_for_warmup 0 means 1', () => {
    const c = buildConfig(
      {
        model_defaults: { enable_model_warmup: false, num_request_iterations_for_warmup: 3 },
        models: [
          { name: 'a', base_path: '/a' },
          {
            name: 'b',
            base_path: '/b',
            enable_model_warmup: true,
            num_request_iterations_for_warmup: 0,
            max_warmup_records: 5,
            warmup_timeout_ms: 0,
            warmup: [{ batch_sizes: [2, 4], data: 'random', count: 3, dims: { x: [7] } }],
          },
        ],
      },
      'test',
      '/',
    );
    assert.equal(c.models[0].warmup?.enabled, false);
    assert.equal(c.models[0].warmup?.iterations, 3);
    assert.deepEqual(c.models[1].warmup, {
      enabled: true,
      iterations: 1,
      maxRecords: 5,
      timeoutMs: 0,
      declared: [{ batchSizes: [2, 4], data: 'random', count: 3, dims: { x: [7] } }],
    });
  });

  it('rejects bad warmup keys with path-naming errors', () => {
    assert.throws(
      () =>
        buildConfig(
          { models: [{ name: 'm', base_path: '/m', warmup: [{ data: 'ones', count: 0 }] }] },
          'test',
          '/',
        ),
      (e: unknown) => /models\/0\/warmup\/0|models\[0\]\.warmup\[0\]/.test(String((e as Error).message)),
    );
  });
});

describe('declared warmup inputs', () => {
  const signature: Signature = {
    inputs: [
      { name: 'image', dtype: 'float32', shape: [-1, 28, 28, 1] },
      { name: 'len', dtype: 'int64', shape: [-1, -1] },
      { name: 'tag', dtype: 'string', shape: [-1] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 10] }],
    batched: true,
    methodName: 'tensorflow/serving/predict',
  };

  it('shapes come from the signature, the batch size and the declared dims; open dims default to 1', () => {
    const zero = generateInputs({ signature, batchSize: 3, data: 'zero', dims: {}, where: 'w' });
    assert.deepEqual(zero.image.shape, [3, 28, 28, 1]);
    assert.deepEqual(zero.len.shape, [3, 1]);
    assert.deepEqual(zero.tag.shape, [3]);
    assert.ok((zero.image.data as Float32Array).every((v) => v === 0));
    const random = generateInputs({
      signature,
      batchSize: 2,
      data: 'random',
      dims: { len: [5] },
      where: 'w',
    });
    assert.deepEqual(random.len.shape, [2, 5]);
    assert.equal(random.len.data.length, 10);
    assert.ok((random.image.data as Float32Array).some((v) => v !== 0));
    assert.equal((random.tag.data as Uint8Array[]).length, 2);
  });

  it('dims for an unknown input or of the wrong length are INVALID_ARGUMENT naming the warmup', () => {
    const cases: Record<string, number[]>[] = [{ nope: [1] }, { image: [28, 28] }];
    for (const dims of cases) {
      assert.throws(
        () => generateInputs({ signature, batchSize: 1, data: 'zero', dims, where: 'declared warmup 0' }),
        (e: unknown) =>
          e instanceof ServingError &&
          e.code === 'INVALID_ARGUMENT' &&
          /^declared warmup 0: /.test(e.message),
      );
    }
  });
});
