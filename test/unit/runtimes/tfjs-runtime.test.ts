import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel } from '../../../src/workers/runtime.js';
import { loadRuntime } from '../../../src/workers/runtimes/index.js';
import { OnnxRuntime } from '../../../src/workers/runtimes/onnx.js';
import { TfjsRuntime } from '../../../src/workers/runtimes/tfjs.js';
import { CPU, generatedModels, testImages } from './generated-models.js';

const f32 = (...v: number[]) => new Float32Array(v);

describe('TfjsRuntime', () => {
  let models: string;
  const logged: string[] = [];
  const runtime = new TfjsRuntime('tfjs', { info: (m) => logged.push(m), warn: (m) => logged.push(m) });
  const loaded: LoadedModel[] = [];
  const load = async (name: string) => {
    const m = await runtime.load(join(models, name, '1'), CPU);
    loaded.push(m);
    return m;
  };
  before(async () => {
    // Generate first: the generator sets tfjs' backend to cpu, the runtime then picks its own.
    models = await generatedModels();
  });
  after(async () => {
    for (const m of loaded) await m.dispose();
  });

  it('serves the half_plus_two graph model on the wasm backend', async () => {
    const m = await load('half_plus_two_tfjs');
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok(logged.some((l) => /tfjs-backend-wasm/.test(l)));
    assert.deepEqual(m.signature, {
      inputs: [{ name: 'x', dtype: 'float32', shape: [-1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [-1] }],
      batched: true,
      methodName: 'tensorflow/serving/predict',
    });
    const out = await m.run({ x: { dtype: 'float32', shape: [3], data: f32(1, 2, 5) } }, ['y']);
    assert.deepEqual(out.y, { dtype: 'float32', shape: [3], data: f32(2.5, 3, 4.5) });
  });

  it('serves the CNN layers model, agreeing with the ONNX CNN to 1e-5', async () => {
    const m = await load('cnn_tfjs');
    assert.deepEqual(m.signature.inputs, [{ name: 'image', dtype: 'float32', shape: [-1, 28, 28, 1] }]);
    assert.deepEqual(m.signature.outputs, [{ name: 'probabilities', dtype: 'float32', shape: [-1, 10] }]);
    assert.equal(m.signature.batched, true);
    const image = { dtype: 'float32', shape: [4, 28, 28, 1], data: testImages(4) } as const;
    const out = await m.run({ image }, []);
    assert.deepEqual(out.probabilities.shape, [4, 10]);

    const onnx = await new OnnxRuntime().load(join(models, 'cnn', '1'), CPU);
    loaded.push(onnx);
    const ref = (await onnx.run({ image }, [])).probabilities.data as Float32Array;
    const got = out.probabilities.data as Float32Array;
    assert.equal(got.length, ref.length);
    for (let i = 0; i < ref.length; i++)
      assert.ok(Math.abs(got[i] - ref[i]) <= 1e-5, `[${i}] ${got[i]} vs ${ref[i]}`);
    // The inputs are not all alike, so the rows must differ (a degenerate net would pass the above).
    assert.notDeepEqual(got.subarray(0, 10), got.subarray(10, 20));
  });

  it('serves multi_io_tfjs by signature keys, not graph tensor names, with int64 count', async () => {
    const m = await load('multi_io_tfjs');
    assert.deepEqual(m.signature, {
      inputs: [
        { name: 'a', dtype: 'float32', shape: [-1, 3] },
        { name: 'b', dtype: 'float32', shape: [-1, 3] },
        { name: 'scale', dtype: 'float32', shape: [-1, 1] },
      ],
      outputs: [
        { name: 'sum', dtype: 'float32', shape: [-1, 3] },
        { name: 'weighted', dtype: 'float32', shape: [-1, 3] },
        { name: 'greater', dtype: 'bool', shape: [-1, 3] },
        { name: 'count', dtype: 'int64', shape: [-1] },
      ],
      batched: true,
      methodName: 'tensorflow/serving/predict',
    });
    const inputs = {
      a: { dtype: 'float32', shape: [2, 3], data: f32(1, 2, 3, 0, 5, 5) },
      b: { dtype: 'float32', shape: [2, 3], data: f32(3, 2, 1, -1, 4, 6) },
      scale: { dtype: 'float32', shape: [2, 1], data: f32(2, 0.5) },
    } as const;
    // Outputs in an order unlike the graph's Identity numbering, and a subset.
    const out = await m.run(inputs, ['count', 'weighted']);
    assert.deepEqual(Object.keys(out).sort(), ['count', 'weighted']);
    assert.deepEqual(out.count, { dtype: 'int64', shape: [2], data: new BigInt64Array([1n, 2n]) });
    assert.deepEqual(out.weighted.shape, [2, 3]);
    assert.deepEqual([...(out.weighted.data as Float32Array)], [-4, 0, 4, 0.5, 0.5, -0.5]);
    const all = await m.run(inputs, []);
    assert.deepEqual([...(all.sum.data as Float32Array)], [4, 4, 4, -1, 9, 11]);
    assert.deepEqual(all.greater.dtype, 'bool');
    assert.deepEqual([...(all.greater.data as Uint8Array)], [0, 0, 1, 1, 1, 0]);
  });

  it('leaks no tensors across runs', async () => {
    const m = await load('cnn_tfjs');
    const image = { dtype: 'float32', shape: [2, 28, 28, 1], data: testImages(2) } as const;
    await m.run({ image }, []);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await m.run({ image }, []);
    await assert.rejects(m.run({ image: { ...image, shape: [2, 28, 28] } }, []));
    assert.equal(tf.memory().numTensors, before);
  });

  it('maps client mistakes to INVALID_ARGUMENT', async () => {
    const m = await load('half_plus_two_tfjs');
    const invalid = { code: 'INVALID_ARGUMENT' };
    await assert.rejects(m.run({ x: { dtype: 'float32', shape: [3, 1], data: f32(1, 2, 3) } }, []), invalid);
    await assert.rejects(m.run({}, []), invalid);
    await assert.rejects(m.run({ x: { dtype: 'float32', shape: [1], data: f32(1) } }, ['z']), invalid);
    const cnn = await load('cnn_tfjs');
    await assert.rejects(
      cnn.run({ image: { dtype: 'float32', shape: [1, 28, 28], data: testImages(1) } }, []),
      invalid,
    );
  });

  it('measures the memory a model holds as the growth of the backend bytes across the load', async () => {
    await load('half_plus_two_tfjs'); // the backend is initialised by now
    const before = tf.memory().numBytes;
    const m = await load('cnn_tfjs');
    assert.equal(m.memoryBytes, tf.memory().numBytes - before);
    assert.ok((m.memoryBytes ?? 0) > 0);
  });

  it('fails loads with the right codes', async () => {
    await assert.rejects(runtime.load(join(models, 'cnn', '1'), CPU), { code: 'NOT_FOUND' });
    const savedModel = await loadRuntime('tensorflow');
    assert.equal(savedModel.platform, 'tensorflow');
    await assert.rejects(savedModel.load(join(models, 'cnn', '1'), CPU), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FAILED_PRECONDITION');
      assert.match(err.message, /@tensorflow\/tfjs-node/);
      return true;
    });
  });
});
