import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import protobuf from 'protobufjs';
import { findProtoDir } from '../../src/main/codecs/proto-dir.js';
import { buildConfig } from '../../src/main/config/load-config.js';
import { loadModelServerConfigFile } from '../../src/main/config/model-server-config.js';
import { loadProtos, PROTO_FILES } from '../../src/main/grpc/grpc-protos.js';
import { TensorServe } from '../../src/main/server.js';
import { expected, NO_FP16, rawOf, SAMPLES, type Sample, valuesOfRaw } from '../fixtures/dtype-samples.js';
import {
  copyVersion,
  MODELS_DIR,
  REPO_ROOT,
  startTestServer,
  type TestServer,
} from '../fixtures/test-server.js';

/**
 * The gRPC front end of a real tensorserve (ONNX runtime, scheduler, lifecycle) through a
 * grpc-js client built from the project's protos: every RPC, every dtype, reloads, health.
 */

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type Ctor = new (address: string, creds: grpc.ChannelCredentials) => Client;

function clientOf(name: string, address: string): Client {
  let node: unknown = loadProtos().grpcObject;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  return new (node as Ctor)(address, grpc.credentials.createInsecure());
}

function call<T>(client: Client, method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

async function expectStatus(p: Promise<unknown>, code: grpc.status, pattern: RegExp): Promise<void> {
  const err = (await p.then(
    () => assert.fail(`expected ${grpc.status[code]}`),
    (e: unknown) => e,
  )) as grpc.ServiceError;
  assert.equal(err.code, code, `got ${grpc.status[err.code]}: ${err.details}`);
  assert.match(err.details, pattern);
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const SHAPE_2x2 = { dim: [{ size: '2' }, { size: '2' }] };

/** A TensorProto carrying a sample in tensor_content (strings: string_val). */
function tensorContentProto(s: Sample): object {
  if (s.dtype === 'string')
    return {
      dtype: s.tf,
      tensor_shape: SHAPE_2x2,
      string_val: s.values.map((v) => Buffer.from(v as string)),
    };
  return { dtype: s.tf, tensor_shape: SHAPE_2x2, tensor_content: rawOf(s) };
}

/** A TensorProto carrying a sample in its typed *_val field. */
function typedProto(s: Sample): object {
  const base = { dtype: s.tf, tensor_shape: SHAPE_2x2 };
  const v = s.values;
  switch (s.dtype) {
    case 'float32':
      return { ...base, float_val: v };
    case 'float64':
      return { ...base, double_val: v };
    case 'float16':
      return { ...base, half_val: v };
    case 'int64':
      return { ...base, int64_val: v.map(String) };
    case 'uint32':
      return { ...base, uint32_val: v };
    case 'uint64':
      return { ...base, uint64_val: v.map(String) };
    case 'bool':
      return { ...base, bool_val: v };
    case 'string':
      return { ...base, string_val: v.map((x) => Buffer.from(x as string)) };
    default:
      return { ...base, int_val: v };
  }
}

/** KServe typed contents of a sample (every datatype but FP16). */
function kserveContents(s: Sample): object {
  const v = s.values;
  switch (s.kserve) {
    case 'FP32':
      return { fp32_contents: v };
    case 'FP64':
      return { fp64_contents: v };
    case 'INT64':
      return { int64_contents: v.map(String) };
    case 'UINT64':
      return { uint64_contents: v.map(String) };
    case 'BOOL':
      return { bool_contents: v };
    case 'BYTES':
      return { bytes_contents: v.map((x) => Buffer.from(x as string)) };
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return { uint_contents: v };
    default:
      return { int_contents: v };
  }
}

interface TensorProtoOut {
  dtype: string;
  tensor_shape: { dim: { size: string }[] };
  tensor_content?: Buffer;
  string_val: Buffer[];
}

/** Checks a PredictResponse of identity_dtypes against the samples sent. */
function assertIdentityOutputs(outputs: Record<string, TensorProtoOut>, samples: readonly Sample[]): void {
  assert.deepEqual(Object.keys(outputs).sort(), samples.map((s) => `out_${s.dtype}`).sort());
  for (const s of samples) {
    const out = outputs[`out_${s.dtype}`];
    assert.equal(out.dtype, s.tf, s.dtype);
    assert.deepEqual(
      out.tensor_shape.dim.map((d) => d.size),
      ['2', '2'],
    );
    const got =
      s.dtype === 'string'
        ? out.string_val.map((b) => Buffer.from(b).toString())
        : valuesOfRaw(s, out.tensor_content ?? Buffer.alloc(0));
    assert.deepEqual(got, expected(s), s.dtype);
  }
}

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

function assertInferOutputs(res: InferResponse, samples: readonly Sample[]): void {
  assert.deepEqual(
    res.outputs.map((o) => o.name),
    samples.map((s) => `out_${s.dtype}`),
  );
  res.outputs.forEach((o, i) => {
    const s = samples[i];
    assert.equal(o.datatype, s.kserve);
    assert.deepEqual(o.shape, ['2', '2']);
    assert.deepEqual(valuesOfRaw(s, res.raw_output_contents[i]), expected(s), s.kserve);
  });
}

const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer);
const floats = (b: Buffer | undefined) =>
  valuesOfRaw({ ...SAMPLES[0], values: new Array(b!.byteLength / 4) }, b!);

describe('gRPC on a real server', () => {
  let ts: TestServer;
  let predict: Client;
  let models: Client;
  let kserve: Client;
  let health: Client;

  before(async () => {
    ts = await startTestServer({
      server: { rest_api_port: -1 },
      models: [
        { name: 'half_plus_two', base_path: 'models/half_plus_two', version_labels: { stable: 1 } },
        { name: 'identity_dtypes', base_path: 'models/identity_dtypes' },
        { name: 'identity_no_fp16', base_path: 'models/identity_no_fp16' },
      ],
    });
    predict = clientOf('tensorflow.serving.PredictionService', ts.grpcAddress);
    models = clientOf('tensorflow.serving.ModelService', ts.grpcAddress);
    kserve = clientOf('inference.GRPCInferenceService', ts.grpcAddress);
    health = clientOf('grpc.health.v1.Health', ts.grpcAddress);
  });
  after(async () => {
    for (const c of [predict, models, kserve, health]) c?.close();
    await ts?.close();
  });

  describe('TF Serving Predict', () => {
    it('half_plus_two from tensor_content, with the response model_spec', async () => {
      const res = await call<{ model_spec: object; outputs: Record<string, TensorProtoOut> }>(
        predict,
        'Predict',
        {
          model_spec: { name: 'half_plus_two' },
          inputs: {
            x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '3' }] }, tensor_content: f32(1, 2, 5) },
          },
        },
      );
      assert.deepEqual(res.model_spec, {
        name: 'half_plus_two',
        version: { value: '1' },
        signature_name: 'serving_default',
        version_choice: 'version',
      });
      assert.deepEqual(Object.keys(res.outputs), ['y']);
      assert.equal(res.outputs['y'].dtype, 'DT_FLOAT');
      assert.deepEqual(floats(res.outputs['y'].tensor_content), [2.5, 3, 4.5]);
    });

    it('half_plus_two from float_val: one value fills the shape; version, label, signature, filter', async () => {
      const x = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '4' }] }, float_val: [4] };
      for (const model_spec of [
        { name: 'half_plus_two', version: { value: '1' }, signature_name: 'serving_default' },
        { name: 'half_plus_two', version_label: 'stable' },
      ]) {
        const res = await call<{
          model_spec: { version: { value: string } };
          outputs: Record<string, TensorProtoOut>;
        }>(predict, 'Predict', { model_spec, inputs: { x }, output_filter: ['y'] });
        assert.equal(res.model_spec.version.value, '1');
        assert.deepEqual(floats(res.outputs['y'].tensor_content), [4, 4, 4, 4]);
      }
      const perElement = await call<{ outputs: Record<string, TensorProtoOut> }>(predict, 'Predict', {
        model_spec: { name: 'half_plus_two' },
        inputs: { x: { ...x, float_val: [0, 2, -4, 8] } },
      });
      assert.deepEqual(floats(perElement.outputs['y'].tensor_content), [2, 3, 0, 6]);
    });

    it('refuses an unknown signature, version, label or output with the right status', async () => {
      const inputs = { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }] }, float_val: [1] } };
      await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'half_plus_two', signature_name: 'other' }, inputs }),
        grpc.status.INVALID_ARGUMENT,
        /signature name: "other" not found/,
      );
      await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'half_plus_two', version: { value: '9' } }, inputs }),
        grpc.status.NOT_FOUND,
        /half_plus_two/,
      );
      await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'half_plus_two', version_label: 'canary' }, inputs }),
        grpc.status.INVALID_ARGUMENT,
        /canary/,
      );
      await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs, output_filter: ['z'] }),
        grpc.status.INVALID_ARGUMENT,
        /z/,
      );
      await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'nope' }, inputs }),
        grpc.status.NOT_FOUND,
        /nope/,
      );
    });

    it('identity_dtypes: every dtype through tensor_content', async () => {
      const inputs = Object.fromEntries(SAMPLES.map((s) => [`in_${s.dtype}`, tensorContentProto(s)]));
      const res = await call<{ outputs: Record<string, TensorProtoOut> }>(predict, 'Predict', {
        model_spec: { name: 'identity_dtypes' },
        inputs,
      });
      assertIdentityOutputs(res.outputs, SAMPLES);
    });

    it('identity_dtypes: every dtype through its typed *_val field, filtered outputs', async () => {
      const inputs = Object.fromEntries(SAMPLES.map((s) => [`in_${s.dtype}`, typedProto(s)]));
      const res = await call<{ outputs: Record<string, TensorProtoOut> }>(predict, 'Predict', {
        model_spec: { name: 'identity_dtypes' },
        inputs,
      });
      assertIdentityOutputs(res.outputs, SAMPLES);
      const some = await call<{ outputs: Record<string, TensorProtoOut> }>(predict, 'Predict', {
        model_spec: { name: 'identity_dtypes' },
        inputs,
        output_filter: ['out_int64', 'out_string'],
      });
      assertIdentityOutputs(
        some.outputs,
        SAMPLES.filter((s) => s.dtype === 'int64' || s.dtype === 'string'),
      );
    });

    it('refuses malformed tensors with INVALID_ARGUMENT naming the input', async () => {
      const spec = { name: 'half_plus_two' };
      const shape = { dim: [{ size: '3' }] };
      const cases: [object, RegExp][] = [
        [
          { dtype: 'DT_FLOAT', tensor_shape: shape, tensor_content: f32(1, 2) },
          /Input 'x': tensor_content has 8 bytes, expected 12/,
        ],
        [
          { dtype: 'DT_FLOAT', tensor_shape: shape, float_val: [1, 2] },
          /Input 'x' has 2 values in float_val, expected 1 or 3/,
        ],
        [
          { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1' }] }, float_val: [1] },
          /Input 'x' has an invalid dimension 0: -1/,
        ],
        [{ dtype: 'DT_COMPLEX64', tensor_shape: shape }, /Input 'x' has an unsupported dtype: DT_COMPLEX64/],
        [
          { dtype: 'DT_INT32', tensor_shape: shape, int_val: [1, 2, 3] },
          /Input 'x' of model 'half_plus_two' must be float32, got int32/,
        ],
      ];
      for (const [x, pattern] of cases) {
        await expectStatus(
          call(predict, 'Predict', { model_spec: spec, inputs: { x } }),
          grpc.status.INVALID_ARGUMENT,
          pattern,
        );
      }
      await expectStatus(
        call(predict, 'Predict', { model_spec: spec, inputs: {} }),
        grpc.status.INVALID_ARGUMENT,
        /Missing input 'x'/,
      );
      await expectStatus(
        call(predict, 'Predict', {
          model_spec: spec,
          inputs: {
            x: { dtype: 'DT_FLOAT', tensor_shape: shape, float_val: [1] },
            w: { dtype: 'DT_FLOAT', float_val: [1] },
          },
        }),
        grpc.status.INVALID_ARGUMENT,
        /Unknown input 'w'/,
      );
    });
  });

  describe('TF Serving metadata and status', () => {
    it('GetModelMetadata packs a SignatureDefMap in Any', async () => {
      const res = await call<{
        model_spec: { name: string; version: { value: string } };
        metadata: Record<string, { type_url: string; value: Buffer }>;
      }>(predict, 'GetModelMetadata', {
        model_spec: { name: 'identity_dtypes' },
        metadata_field: ['signature_def'],
      });
      assert.equal(res.model_spec.name, 'identity_dtypes');
      assert.equal(res.model_spec.version.value, '1');
      const any = res.metadata['signature_def'];
      assert.equal(any.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
      const T = protoRoot().lookupType('tensorflow.serving.SignatureDefMap');
      const map = T.toObject(T.decode(any.value), { enums: String, longs: String }) as {
        signature_def: Record<
          string,
          { inputs: Record<string, unknown>; outputs: Record<string, unknown>; method_name: string }
        >;
      };
      const sig = map.signature_def['serving_default'];
      assert.equal(sig.method_name, 'tensorflow/serving/predict');
      for (const s of SAMPLES) {
        const info = { dtype: s.tf, tensor_shape: { dim: [{ size: '-1' }, { size: '2' }] } };
        assert.deepEqual(sig.inputs[`in_${s.dtype}`], { name: `in_${s.dtype}`, ...info });
        assert.deepEqual(sig.outputs[`out_${s.dtype}`], { name: `out_${s.dtype}`, ...info });
      }
    });

    it('GetModelStatus reports the served version; unknown models are NOT_FOUND', async () => {
      const res = await call<{ model_version_status: unknown[] }>(models, 'GetModelStatus', {
        model_spec: { name: 'half_plus_two' },
      });
      assert.deepEqual(res.model_version_status, [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ]);
      await expectStatus(
        call(models, 'GetModelStatus', { model_spec: { name: 'nope' } }),
        grpc.status.NOT_FOUND,
        /nope/,
      );
    });
  });

  describe('KServe GRPCInferenceService', () => {
    it('server and model metadata, liveness and readiness', async () => {
      assert.deepEqual(await call(kserve, 'ServerLive', {}), { live: true });
      assert.deepEqual(await call(kserve, 'ServerReady', {}), { ready: true });
      const meta = await call<{ name: string; version: string }>(kserve, 'ServerMetadata', {});
      assert.equal(meta.name, 'tensorserve');
      assert.deepEqual(await call(kserve, 'ModelReady', { name: 'identity_dtypes' }), { ready: true });
      assert.deepEqual(await call(kserve, 'ModelReady', { name: 'identity_dtypes', version: '3' }), {
        ready: false,
      });
      const md = await call<{
        name: string;
        versions: string[];
        platform: string;
        inputs: object[];
        outputs: object[];
      }>(kserve, 'ModelMetadata', { name: 'identity_dtypes' });
      assert.deepEqual([md.name, md.versions, md.platform], ['identity_dtypes', ['1'], 'onnxruntime_onnx']);
      assert.deepEqual(
        md.inputs,
        SAMPLES.map((s) => ({ name: `in_${s.dtype}`, datatype: s.kserve, shape: ['-1', '2'] })),
      );
      assert.deepEqual(
        md.outputs,
        SAMPLES.map((s) => ({ name: `out_${s.dtype}`, datatype: s.kserve, shape: ['-1', '2'] })),
      );
      await expectStatus(call(kserve, 'ModelMetadata', { name: 'nope' }), grpc.status.NOT_FOUND, /nope/);
    });

    it('half_plus_two: the same answers as Predict', async () => {
      const res = await call<InferResponse>(kserve, 'ModelInfer', {
        model_name: 'half_plus_two',
        id: 'r1',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['3'] }],
        raw_input_contents: [f32(1, 2, 5)],
      });
      assert.deepEqual([res.model_name, res.model_version, res.id], ['half_plus_two', '1', 'r1']);
      assert.deepEqual(floats(res.raw_output_contents[0]), [2.5, 3, 4.5]);
    });

    it('every datatype through raw_input_contents', async () => {
      const res = await call<InferResponse>(kserve, 'ModelInfer', {
        model_name: 'identity_dtypes',
        inputs: SAMPLES.map((s) => ({ name: `in_${s.dtype}`, datatype: s.kserve, shape: ['2', '2'] })),
        raw_input_contents: SAMPLES.map(rawOf),
      });
      assertInferOutputs(res, SAMPLES);
    });

    it('every datatype but FP16 through typed contents, requested outputs in order', async () => {
      const inputs = NO_FP16.map((s) => ({
        name: `in_${s.dtype}`,
        datatype: s.kserve,
        shape: ['2', '2'],
        contents: kserveContents(s),
      }));
      const res = await call<InferResponse>(kserve, 'ModelInfer', { model_name: 'identity_no_fp16', inputs });
      assertInferOutputs(res, NO_FP16);
      const picked = [NO_FP16[10], NO_FP16[0]];
      const some = await call<InferResponse>(kserve, 'ModelInfer', {
        model_name: 'identity_no_fp16',
        inputs,
        outputs: picked.map((s) => ({ name: `out_${s.dtype}` })),
      });
      assertInferOutputs(some, picked);
    });

    it('refuses malformed requests with INVALID_ARGUMENT naming the tensor', async () => {
      const x = { name: 'x', datatype: 'FP32', shape: ['2'] };
      const infer = (req: object) => call(kserve, 'ModelInfer', { model_name: 'half_plus_two', ...req });
      const cases: [object, RegExp][] = [
        [
          { inputs: [x, { ...x, name: 'z' }], raw_input_contents: [f32(1, 2)] },
          /Expected 2 raw_input_contents/,
        ],
        [{ inputs: [x], raw_input_contents: [f32(1, 2), f32(3)] }, /Expected 1 raw_input_contents/],
        [{ inputs: [x], raw_input_contents: [f32(1)] }, /Input 'x': raw contents have 4 bytes, expected 8/],
        [
          { inputs: [{ ...x, contents: { fp32_contents: [1] } }] },
          /Input 'x' has 1 values in fp32_contents, expected 2/,
        ],
        [
          { inputs: [{ ...x, shape: ['-2'] }], raw_input_contents: [f32(1, 2)] },
          /Input 'x' has an invalid dimension 0: -2/,
        ],
        [
          { inputs: [{ ...x, datatype: 'COMPLEX' }], raw_input_contents: [f32(1, 2)] },
          /Input 'x' has an unsupported datatype: COMPLEX/,
        ],
        [{ inputs: [x, x], raw_input_contents: [f32(1, 2), f32(1, 2)] }, /Input 'x' is given more than once/],
        [{ inputs: [{ ...x, name: 'w' }], raw_input_contents: [f32(1, 2)] }, /Unknown input 'w'/],
        [{ inputs: [] }, /Missing input 'x'/],
        [
          { inputs: [{ ...x, datatype: 'FP16', shape: ['1'] }] },
          /Input 'x': FP16 data must be sent in raw_input_contents/,
        ],
      ];
      for (const [req, pattern] of cases)
        await expectStatus(infer(req), grpc.status.INVALID_ARGUMENT, pattern);
      await expectStatus(
        call(kserve, 'ModelInfer', { model_name: 'nope', inputs: [x], raw_input_contents: [f32(1, 2)] }),
        grpc.status.NOT_FOUND,
        /nope/,
      );
    });
  });

  describe('Health', () => {
    it('Watch sees NOT_SERVING → SERVING while the core is not ready, then ready again', async () => {
      assert.deepEqual(await call(health, 'Check', { service: '' }), { status: 'SERVING' });
      ts.server.core.setDraining(true);
      const stream = (health.Watch as (r: object) => grpc.ClientReadableStream<{ status: string }>)({
        service: 'inference.GRPCInferenceService',
      });
      const seen: string[] = [];
      stream.on('data', (m: { status: string }) => seen.push(m.status));
      stream.on('error', () => {});
      try {
        await waitFor(() => seen.length === 1, 'the first status');
        assert.deepEqual(await call(kserve, 'ServerReady', {}), { ready: false });
        ts.server.core.setDraining(false);
        await waitFor(() => seen.length === 2, 'SERVING');
        assert.deepEqual(seen, ['NOT_SERVING', 'SERVING']);
        assert.deepEqual(await call(kserve, 'ServerReady', {}), { ready: true });
      } finally {
        ts.server.core.setDraining(false);
        stream.cancel();
      }
    });
  });

  describe('HandleReloadConfigRequest', () => {
    it('adds one model and removes another; statuses follow', async () => {
      const config = (names: string[]) => ({
        config: {
          model_config_list: {
            config: names.map((name) => ({
              name,
              base_path: path.join(MODELS_DIR, name),
              model_platform: 'onnx',
            })),
          },
        },
      });
      const res = await call<{ status: object }>(
        models,
        'HandleReloadConfigRequest',
        config(['half_plus_two', 'identity_dtypes', 'identity_no_fp16', 'multi_io']),
      );
      assert.deepEqual(res.status, { error_code: 'OK', error_message: '' });
      const added = await call<{ model_version_status: { state: string }[] }>(models, 'GetModelStatus', {
        model_spec: { name: 'multi_io' },
      });
      assert.deepEqual(
        added.model_version_status.map((s) => s.state),
        ['AVAILABLE'],
      );
      await call(
        models,
        'HandleReloadConfigRequest',
        config(['identity_dtypes', 'identity_no_fp16', 'multi_io']),
      );
      await waitFor(async () => {
        const r = await call<{ model_version_status: { state: string }[] }>(models, 'GetModelStatus', {
          model_spec: { name: 'half_plus_two' },
        }).catch((e: grpc.ServiceError) => e);
        return 'code' in r
          ? r.code === grpc.status.NOT_FOUND
          : r.model_version_status.every((s) => s.state === 'END');
      }, 'half_plus_two to unload');
      await expectStatus(
        call(predict, 'Predict', {
          model_spec: { name: 'half_plus_two' },
          inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }] }, float_val: [1] } },
        }),
        grpc.status.NOT_FOUND,
        /half_plus_two/,
      );
      await expectStatus(
        call(models, 'HandleReloadConfigRequest', {
          config: { model_config_list: { config: [{ name: 'x' }] } },
        }),
        grpc.status.INVALID_ARGUMENT,
        /missing base_path/,
      );
    });

    // The model list the reload tests below keep serving besides the one under test.
    const kept = ['identity_dtypes', 'identity_no_fp16', 'multi_io'].map((name) => ({
      name,
      base_path: path.join(MODELS_DIR, name),
      model_platform: 'onnx',
    }));
    const reload = (extra: object[]) =>
      call<{ status: { error_code: string; error_message: string } }>(models, 'HandleReloadConfigRequest', {
        config: { model_config_list: { config: [...kept, ...extra] } },
      });
    const versionStates = (name: string) =>
      call<{ model_version_status: { version: string; state: string }[] }>(models, 'GetModelStatus', {
        model_spec: { name },
      }).then((r) => r.model_version_status.map((s) => `${s.version}:${s.state}`));
    const hptX = (spec: object) => ({
      model_spec: { name: 'half_plus_two', ...spec },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '2' }] }, float_val: [1, 3] } },
    });

    it('answers the load error, naming the model, when a base path does not exist', async () => {
      const missing = path.join(MODELS_DIR, 'no_such_model');
      const res = await reload([{ name: 'ghost', base_path: missing, model_platform: 'onnx' }]);
      assert.equal(res.status.error_code, 'NOT_FOUND', res.status.error_message);
      assert.match(res.status.error_message, new RegExp(`base path ${missing} for servable ghost`));
      // The rest of the list is still served.
      assert.deepEqual(await versionStates('multi_io'), ['1:AVAILABLE']);
      const ok = await reload([]);
      assert.deepEqual(ok.status, { error_code: 'OK', error_message: '' });
    });

    it('adds a canary label that Predict can use; a label on a missing version is FAILED_PRECONDITION', async () => {
      const hpt = {
        name: 'half_plus_two',
        base_path: path.join(MODELS_DIR, 'half_plus_two'),
        model_platform: 'onnx',
      };
      const res = await reload([{ ...hpt, version_labels: { canary: '1' } }]);
      assert.deepEqual(res.status, { error_code: 'OK', error_message: '' });
      const out = await call<{
        model_spec: { version: { value: string } };
        outputs: Record<string, TensorProtoOut>;
      }>(predict, 'Predict', hptX({ version_label: 'canary' }));
      assert.equal(out.model_spec.version.value, '1');
      assert.deepEqual(floats(out.outputs['y'].tensor_content), [2.5, 3.5]);

      const bad = await reload([{ ...hpt, version_labels: { canary: '1', next: '2' } }]);
      assert.equal(bad.status.error_code, 'FAILED_PRECONDITION', bad.status.error_message);
      assert.match(bad.status.error_message, /label 'next' to version 2 of model half_plus_two/);
      // The refused reload assigned no label at all: 'next' is unknown, 'canary' still serves.
      await expectStatus(
        call(predict, 'Predict', hptX({ version_label: 'next' })),
        grpc.status.INVALID_ARGUMENT,
        /Unrecognized servable version label: next/,
      );
      const still = await call<{ model_spec: { version: { value: string } } }>(
        predict,
        'Predict',
        hptX({ version_label: 'canary' }),
      );
      assert.equal(still.model_spec.version.value, '1');
    });

    it('a changed version policy changes GetModelStatus', async () => {
      const base = copyVersion('half_plus_two', 1, undefined, 1);
      copyVersion('half_plus_two', 1, base, 2);
      const twoVersions = (policy: object) => ({
        name: 'two_versions',
        base_path: base,
        model_platform: 'onnx',
        model_version_policy: policy,
      });
      let res = await reload([twoVersions({ latest: { num_versions: 1 } })]);
      assert.deepEqual(res.status, { error_code: 'OK', error_message: '' });
      assert.deepEqual(await versionStates('two_versions'), ['2:AVAILABLE']);
      res = await reload([twoVersions({ all: {} })]);
      assert.deepEqual(res.status, { error_code: 'OK', error_message: '' });
      assert.deepEqual(await versionStates('two_versions'), ['2:AVAILABLE', '1:AVAILABLE']);
      res = await reload([twoVersions({ specific: { versions: ['1'] } })]);
      assert.deepEqual(res.status, { error_code: 'OK', error_message: '' });
      await waitFor(
        async () => (await versionStates('two_versions')).join() === '2:END,1:AVAILABLE',
        'version 2 to unload',
      );
    });
  });
});

describe('gRPC on a real server with --model_config_file', () => {
  let server: TensorServe;
  let models: Client;
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-config-file-'));
  const file = path.join(dir, 'models.config');
  const write = (names: string[]) =>
    writeFileSync(
      file,
      `model_config_list {\n${names
        .map(
          (n) =>
            `  config { name: "${n}" base_path: "${path.join(MODELS_DIR, n)}" model_platform: "onnx" }\n`,
        )
        .join('')}}\n`,
    );

  before(async () => {
    write(['half_plus_two']);
    const base = buildConfig(
      {
        server: { host: '127.0.0.1', rest_api_port: -1, grpc_port: 0, file_system_poll_wait_seconds: 0.1 },
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
      },
      'test',
      REPO_ROOT,
    );
    server = await TensorServe.start(
      {
        ...base,
        models: loadModelServerConfigFile(file, base.modelDefaults),
        configFile: file,
        configPollIntervalMs: 50,
      },
      { logger: pino({ level: process.env.TS_TEST_LOG ?? 'silent' }) },
    );
    models = clientOf('tensorflow.serving.ModelService', `127.0.0.1:${server.grpcPort}`);
  });
  after(async () => {
    models?.close();
    await server?.close();
  });

  it('picks up a rewritten config file: adds multi_io, removes half_plus_two', async () => {
    const status = (name: string) =>
      call<{ model_version_status: { state: string }[] }>(models, 'GetModelStatus', {
        model_spec: { name },
      }).then(
        (r) => r.model_version_status.map((s) => s.state).join(','),
        (e: grpc.ServiceError) => grpc.status[e.code],
      );
    assert.equal(await status('half_plus_two'), 'AVAILABLE');
    assert.equal(await status('multi_io'), 'NOT_FOUND');
    write(['multi_io']);
    await waitFor(async () => (await status('multi_io')) === 'AVAILABLE', 'multi_io to load');
    await waitFor(
      async () => ['END', 'NOT_FOUND'].includes(await status('half_plus_two')),
      'half_plus_two to unload',
    );
  });
});

let root: protobuf.Root | undefined;
function protoRoot(): protobuf.Root {
  if (root) return root;
  const dir = findProtoDir();
  root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync([...PROTO_FILES], { keepCase: true });
  return root;
}
