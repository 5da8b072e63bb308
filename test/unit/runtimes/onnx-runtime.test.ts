import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { LoadedModel } from '../../../src/workers/runtime.js';
import { loadRuntime } from '../../../src/workers/runtimes/index.js';
import { OnnxRuntime } from '../../../src/workers/runtimes/onnx.js';
import { CPU, generatedModels, testImages } from './generated-models.js';

const f32 = (...v: number[]) => new Float32Array(v);

/** onnxruntime-node's CUDA provider library; only an `ONNXRUNTIME_NODE_INSTALL=cuda12` install has it. */
const CUDA_PROVIDER = join(
  dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')),
  'bin',
  'napi-v6',
  process.platform,
  process.arch,
  'libonnxruntime_providers_cuda.so',
);

describe('OnnxRuntime', () => {
  let models: string;
  const runtime = new OnnxRuntime();
  const loaded: LoadedModel[] = [];
  const load = async (name: string) => {
    const m = await runtime.load(join(models, name, '1'), CPU);
    loaded.push(m);
    return m;
  };
  before(async () => {
    models = await generatedModels();
  });
  after(async () => {
    for (const m of loaded) await m.dispose();
  });

  it('is what loadRuntime returns for onnx', async () => {
    const r = await loadRuntime('onnx');
    assert.equal(r.platform, 'onnx');
    assert.ok(r instanceof OnnxRuntime);
  });

  it('serves half_plus_two', async () => {
    const m = await load('half_plus_two');
    assert.deepEqual(m.signature, {
      inputs: [{ name: 'x', dtype: 'float32', shape: [-1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [-1] }],
      batched: true,
      methodName: 'tensorflow/serving/predict',
    });
    assert.equal(m.memoryBytes, undefined, 'onnxruntime cannot measure: no estimate passed off as measured');
    const out = await m.run({ x: { dtype: 'float32', shape: [3], data: f32(1, 2, 5) } }, ['y']);
    assert.deepEqual(out.y, { dtype: 'float32', shape: [3], data: f32(2.5, 3, 4.5) });
  });

  it('serves multi_io with every dtype, and outputs standalone buffers', async () => {
    const m = await load('multi_io');
    assert.deepEqual(
      m.signature.inputs.map((s) => [s.name, s.dtype, s.shape]),
      [
        ['a', 'float32', [-1, 3]],
        ['b', 'float32', [-1, 3]],
        ['scale', 'float32', [-1, 1]],
      ],
    );
    assert.deepEqual(
      m.signature.outputs.map((s) => [s.name, s.dtype, s.shape]),
      [
        ['sum', 'float32', [-1, 3]],
        ['weighted', 'float32', [-1, 3]],
        ['greater', 'bool', [-1, 3]],
        ['count', 'int64', [-1]],
      ],
    );
    const out = await m.run(
      {
        a: { dtype: 'float32', shape: [2, 3], data: f32(1, 2, 3, 4, 5, 6) },
        b: { dtype: 'float32', shape: [2, 3], data: f32(3, 2, 1, 0, 0, 9) },
        scale: { dtype: 'float32', shape: [2, 1], data: f32(2, -1) },
      },
      [],
    );
    assert.deepEqual(Object.keys(out), ['sum', 'weighted', 'greater', 'count']);
    assert.deepEqual(out.sum.data, f32(4, 4, 4, 4, 5, 15));
    assert.deepEqual(out.weighted.data, f32(-4, 0, 4, -4, -5, 3));
    assert.deepEqual(out.greater, { dtype: 'bool', shape: [2, 3], data: new Uint8Array([0, 0, 1, 1, 1, 0]) });
    assert.deepEqual(out.count, { dtype: 'int64', shape: [2], data: new BigInt64Array([1n, 2n]) });
    for (const t of Object.values(out)) {
      const data = t.data as Float32Array;
      assert.equal(data.byteOffset, 0);
      assert.equal(data.byteLength, data.buffer.byteLength);
    }
    // Only the outputs asked for come back.
    const some = await m.run(
      {
        a: { dtype: 'float32', shape: [1, 3], data: f32(0, 0, 0) },
        b: { dtype: 'float32', shape: [1, 3], data: f32(0, 0, 0) },
        scale: { dtype: 'float32', shape: [1, 1], data: f32(0) },
      },
      ['count'],
    );
    assert.deepEqual(Object.keys(some), ['count']);
  });

  it('serves the CNN: softmax rows over a batch of 4', async () => {
    const m = await load('cnn');
    assert.deepEqual(m.signature.inputs, [{ name: 'image', dtype: 'float32', shape: [-1, 28, 28, 1] }]);
    assert.deepEqual(m.signature.outputs, [{ name: 'probabilities', dtype: 'float32', shape: [-1, 10] }]);
    const out = await m.run({ image: { dtype: 'float32', shape: [4, 28, 28, 1], data: testImages(4) } }, []);
    assert.deepEqual(out.probabilities.shape, [4, 10]);
    const p = out.probabilities.data as Float32Array;
    for (let r = 0; r < 4; r++) {
      const sum = p.subarray(r * 10, r * 10 + 10).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} sums to ${sum}`);
    }
  });

  it('maps client mistakes to INVALID_ARGUMENT', async () => {
    const m = await load('multi_io');
    const ok = {
      a: { dtype: 'float32', shape: [1, 3], data: f32(1, 2, 3) },
      b: { dtype: 'float32', shape: [1, 3], data: f32(1, 2, 3) },
      scale: { dtype: 'float32', shape: [1, 1], data: f32(1) },
    } as const;
    const invalid = { code: 'INVALID_ARGUMENT' };
    await assert.rejects(
      m.run({ ...ok, a: { dtype: 'float32', shape: [3, 1], data: f32(1, 2, 3) } }, []),
      invalid,
    );
    await assert.rejects(
      m.run({ ...ok, a: { dtype: 'int32', shape: [1, 3], data: new Int32Array(3) } }, []),
      invalid,
    );
    await assert.rejects(
      m.run({ ...ok, b: { dtype: 'float32', shape: [1, 4], data: f32(1, 2, 3) } }, []),
      invalid,
    );
    await assert.rejects(m.run({ a: ok.a, b: ok.b }, []), invalid);
    await assert.rejects(m.run({ ...ok, extra: ok.a }, []), invalid);
    await assert.rejects(m.run(ok, ['nope']), invalid);
  });

  it('fails loads with the right codes', async () => {
    await assert.rejects(runtime.load(join(models, 'cnn_tfjs', '1'), CPU), { code: 'NOT_FOUND' });
    await assert.rejects(runtime.load(join(models, 'cnn', '1'), { device: 'gpu0', intraOpThreads: 1 }), {
      code: 'INVALID_ARGUMENT',
    });
  });

  it('never falls back to the CPU silently when CUDA is asked for', async (t) => {
    const cuda = () =>
      runtime.load(join(models, 'half_plus_two', '1'), { device: 'cuda:0', intraOpThreads: 1 });
    if (!existsSync(CUDA_PROVIDER)) {
      // The default onnxruntime-node install (this CPU-only box) has no CUDA provider library:
      // the load must fail with the documented error, not run on the CPU.
      await assert.rejects(cuda(), (err: unknown) => {
        assert.ok(err instanceof ServingError);
        assert.equal(err.code, 'FAILED_PRECONDITION');
        assert.match(err.message, /^CUDA execution provider unavailable for cuda:0: /);
        assert.match(err.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
        return true;
      });
      return;
    }
    if (!existsSync('/dev/nvidia0')) {
      t.skip('CUDA provider installed but no GPU device: the outcome depends on the driver');
      return;
    }
    const m = await load('half_plus_two');
    const gpu = await cuda();
    loaded.push(gpu);
    assert.deepEqual(gpu.signature, m.signature); // a CUDA build with a GPU: it just works
  });
});
