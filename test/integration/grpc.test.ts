import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { ServingError } from '../../src/core/errors.js';
import type { ModelMetadataResult } from '../../src/core/model-metadata.js';
import { DEFAULT_SIGNATURE_NAME, PREDICT_METHOD, type Signature } from '../../src/core/signature.js';
import type { TensorMap } from '../../src/core/tensor.js';
import type { VersionSelector } from '../../src/core/version-selector.js';
import type { VersionStatus } from '../../src/core/version-status.js';
import { findProtoDir } from '../../src/main/codecs/proto-dir.js';
import type { ModelConfig } from '../../src/main/config/model-config.js';
import { loadProtos, PROTO_FILES } from '../../src/main/grpc/grpc-protos.js';
import { createGrpcServer, type GrpcServer } from '../../src/main/grpc/grpc-server.js';
import { servingPlan } from '../../src/main/lifecycle/serving-plan.js';
import type { InferenceCore, PredictCall, PredictResult } from '../../src/main/serving/inference-core.js';

const SIGNATURE: Signature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1] }],
  batched: true,
  methodName: PREDICT_METHOD,
};
const VERSIONS = [2, 1];
const LABELS: Record<string, number> = { stable: 1 };

function describeSelector(model: string, s: VersionSelector | undefined): string {
  if (s?.kind === 'version') return `Specific(${model}, ${s.version})`;
  return `Latest(${model})`;
}

/**
 * A deterministic core: `half_plus_two` (y = 0.5x + 2, versions 2 and 1, label stable → 1),
 * `echo` (returns its inputs), `slow` (waits for the call's abort signal) and `boom`
 * (throws a non-ServingError).
 */
class FakeCore implements InferenceCore {
  isReady = true;
  lastCall: PredictCall | undefined;
  aborted: unknown;
  reloaded: readonly ModelConfig[] | undefined;

  private resolve(model: string, selector: VersionSelector | undefined): number {
    if (!['half_plus_two', 'echo', 'slow', 'boom'].includes(model)) {
      throw new ServingError(
        'NOT_FOUND',
        `Servable not found for request: ${describeSelector(model, selector)}`,
      );
    }
    if (selector === undefined || selector.kind === 'latest') return VERSIONS[0];
    if (selector.kind === 'label') {
      const v = LABELS[selector.label];
      if (v === undefined)
        throw new ServingError('INVALID_ARGUMENT', `Unrecognized servable version label: ${selector.label}`);
      return v;
    }
    if (!VERSIONS.includes(selector.version)) {
      throw new ServingError(
        'NOT_FOUND',
        `Servable not found for request: ${describeSelector(model, selector)}`,
      );
    }
    return selector.version;
  }

  async predict(call: PredictCall): Promise<PredictResult> {
    this.lastCall = call;
    const version = this.resolve(call.model, call.selector);
    const inputs: TensorMap =
      typeof call.inputs === 'function'
        ? call.inputs(SIGNATURE, servingPlan('onnx', SIGNATURE))
        : call.inputs;
    const result = (outputs: TensorMap): PredictResult => ({
      model: call.model,
      version,
      signatureName: call.signatureName ?? DEFAULT_SIGNATURE_NAME,
      outputs,
    });
    if (call.model === 'boom') throw new Error('secret internal detail at /srv/worker.js:12');
    if (call.model === 'echo') return result(inputs);
    if (call.model === 'slow') {
      return new Promise((_, reject) => {
        call.signal?.addEventListener('abort', () => {
          this.aborted = call.signal?.reason;
          reject(call.signal?.reason);
        });
      });
    }
    const x = inputs['x'];
    if (x === undefined || x.dtype !== 'float32') {
      throw new ServingError('INVALID_ARGUMENT', "Input 'x' must be given as float32");
    }
    const y = Float32Array.from(x.data as Float32Array, (v) => 0.5 * v + 2);
    const outputs: TensorMap = { y: { dtype: 'float32', shape: [...x.shape], data: y } };
    if (call.outputFilter?.length) {
      for (const name of call.outputFilter) {
        if (name !== 'y') throw new ServingError('INVALID_ARGUMENT', `Unknown output: ${name}`);
      }
    }
    return result(outputs);
  }

  modelStatus(model: string, selector: VersionSelector | undefined): VersionStatus[] {
    const version = selector ? this.resolve(model, selector) : undefined;
    const all: VersionStatus[] = [
      { version: 2, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' },
      { version: 1, state: 'END', errorCode: 'UNKNOWN', errorMessage: 'load failed' },
    ];
    this.resolve(model, undefined);
    return version === undefined ? all : all.filter((s) => s.version === version);
  }

  modelMetadata(model: string, selector: VersionSelector): ModelMetadataResult {
    const version = this.resolve(model, selector);
    return {
      model,
      version,
      platform: 'onnx',
      signatureName: DEFAULT_SIGNATURE_NAME,
      signature: SIGNATURE,
      availableVersions: VERSIONS,
    };
  }

  listModels(): string[] {
    return ['half_plus_two'];
  }

  async reloadModels(models: readonly ModelConfig[]): Promise<void> {
    this.reloaded = models;
  }

  modelLoadError(): ServingError | undefined {
    return undefined;
  }

  live(): boolean {
    return true;
  }

  ready(): boolean {
    return this.isReady;
  }

  modelReady(model: string, selector: VersionSelector): boolean {
    try {
      this.resolve(model, selector);
      return model === 'half_plus_two';
    } catch {
      return false;
    }
  }
}

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: object) => Client;

function clientCtor(name: string): Ctor {
  let node: unknown = loadProtos().grpcObject;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  return node as Ctor;
}

function call<T>(
  client: Client,
  method: string,
  request: object,
  options: grpc.CallOptions = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, new grpc.Metadata(), options, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}

async function expectStatus(
  p: Promise<unknown>,
  code: grpc.status,
  pattern?: RegExp,
): Promise<grpc.ServiceError> {
  const err = (await p.then(
    () => assert.fail(`expected status ${grpc.status[code]}`),
    (e: unknown) => e,
  )) as grpc.ServiceError;
  assert.equal(err.code, code, `got ${grpc.status[err.code]}: ${err.details}`);
  if (pattern) assert.match(err.details, pattern);
  return err;
}

function f32(...values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

function floatsOf(bytes: Buffer): number[] {
  const copy = Buffer.from(bytes);
  return Array.from(new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4));
}

interface TensorProtoOut {
  dtype: string;
  tensor_shape: { dim: { size: string }[] };
  tensor_content?: Buffer;
  string_val: Buffer[];
}

describe('gRPC front end', () => {
  const core = new FakeCore();
  let server: GrpcServer;
  let address: string;
  let predict: Client;
  let models: Client;
  let kserve: Client;
  let health: Client;

  before(async () => {
    server = await createGrpcServer(core, { host: '127.0.0.1', port: 0, maxMessageBytes: 64 * 1024 });
    address = `127.0.0.1:${server.port}`;
    const insecure = grpc.credentials.createInsecure();
    predict = new (clientCtor('tensorflow.serving.PredictionService'))(address, insecure);
    models = new (clientCtor('tensorflow.serving.ModelService'))(address, insecure);
    kserve = new (clientCtor('inference.GRPCInferenceService'))(address, insecure);
    health = new (clientCtor('grpc.health.v1.Health'))(address, insecure);
  });

  after(async () => {
    for (const c of [predict, models, kserve, health]) c.close();
    await server.close(1000);
  });

  describe('PredictionService.Predict', () => {
    const spec = { name: 'half_plus_two' };
    const x = (values: number[]) => ({
      dtype: 'DT_FLOAT',
      tensor_shape: { dim: [{ size: String(values.length) }] },
      tensor_content: f32(...values),
    });

    it('computes from tensor_content and answers with tensor_content and the serving model_spec', async () => {
      const res = await call<{
        outputs: Record<string, TensorProtoOut>;
        model_spec: Record<string, unknown>;
      }>(predict, 'Predict', { model_spec: spec, inputs: { x: x([1, 2, 5]) } });
      assert.deepEqual(res.model_spec, {
        name: 'half_plus_two',
        version: { value: '2' },
        signature_name: 'serving_default',
        version_choice: 'version',
      });
      const y = res.outputs['y'];
      assert.equal(y.dtype, 'DT_FLOAT');
      assert.deepEqual(
        y.tensor_shape.dim.map((d) => d.size),
        ['3'],
      );
      assert.deepEqual(floatsOf(y.tensor_content!), [2.5, 3, 4.5]);
      assert.equal(core.lastCall?.entrypoint, 'GRPC');
      assert.equal(core.lastCall?.deadline, undefined);
    });

    it('decodes typed float_val, a single value filling the shape, and selects version and label', async () => {
      const res = await call<{
        outputs: Record<string, TensorProtoOut>;
        model_spec: { version: { value: string } };
      }>(predict, 'Predict', {
        model_spec: { name: 'half_plus_two', version: { value: '1' }, signature_name: 'serving_default' },
        inputs: {
          x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '2' }, { size: '2' }] }, float_val: [4] },
        },
        output_filter: ['y'],
      });
      assert.equal(res.model_spec.version.value, '1');
      assert.deepEqual(floatsOf(res.outputs['y'].tensor_content!), [4, 4, 4, 4]);
      assert.deepEqual(core.lastCall?.selector, { kind: 'version', version: 1 });
      assert.deepEqual(core.lastCall?.outputFilter, ['y']);
      assert.equal(core.lastCall?.signatureName, 'serving_default');
      await call(predict, 'Predict', {
        model_spec: { name: 'half_plus_two', version_label: 'stable' },
        inputs: { x: x([0]) },
      });
      assert.deepEqual(core.lastCall?.selector, { kind: 'label', label: 'stable' });
    });

    it('round-trips every dtype through the wire', async () => {
      const inputs = {
        i64: {
          dtype: 'DT_INT64',
          tensor_shape: { dim: [{ size: '2' }] },
          int64_val: ['-9223372036854775808', '7'],
        },
        u64: {
          dtype: 'DT_UINT64',
          tensor_shape: { dim: [{ size: '1' }] },
          uint64_val: ['18446744073709551615'],
        },
        u8: {
          dtype: 'DT_UINT8',
          tensor_shape: { dim: [{ size: '3' }] },
          tensor_content: Buffer.from([0, 128, 255]),
        },
        b: { dtype: 'DT_BOOL', tensor_shape: { dim: [{ size: '2' }] }, bool_val: [true, false] },
        h: { dtype: 'DT_HALF', tensor_shape: { dim: [{ size: '1' }] }, half_val: [0x3c00] },
        s: {
          dtype: 'DT_STRING',
          tensor_shape: { dim: [{ size: '2' }] },
          string_val: [Buffer.from('héllo'), Buffer.from([0, 255])],
        },
      };
      const res = await call<{ outputs: Record<string, TensorProtoOut> }>(predict, 'Predict', {
        model_spec: { name: 'echo' },
        inputs,
      });
      const raw = (name: string) => Buffer.from(res.outputs[name].tensor_content!);
      assert.deepEqual(
        [raw('i64').readBigInt64LE(0), raw('i64').readBigInt64LE(8)],
        [-9223372036854775808n, 7n],
      );
      assert.equal(raw('u64').readBigUInt64LE(0), 18446744073709551615n);
      assert.deepEqual([...raw('u8')], [0, 128, 255]);
      assert.deepEqual([...raw('b')], [1, 0]);
      assert.equal(raw('h').readUInt16LE(0), 0x3c00);
      assert.equal(res.outputs['s'].dtype, 'DT_STRING');
      assert.deepEqual(res.outputs['s'].string_val, [Buffer.from('héllo'), Buffer.from([0, 255])]);
    });

    it('refuses malformed tensors with INVALID_ARGUMENT naming the input', async () => {
      const bad = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '3' }] }, tensor_content: f32(1, 2) };
      await expectStatus(
        call(predict, 'Predict', { model_spec: spec, inputs: { x: bad } }),
        grpc.status.INVALID_ARGUMENT,
        /Input 'x': tensor_content has 8 bytes, expected 12/,
      );
      await expectStatus(
        call(predict, 'Predict', {
          model_spec: spec,
          inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-2' }] } } },
        }),
        grpc.status.INVALID_ARGUMENT,
        /Input 'x' has an invalid dimension 0: -2/,
      );
      await expectStatus(
        call(predict, 'Predict', { model_spec: spec, inputs: { x: { dtype: 'DT_COMPLEX64' } } }),
        grpc.status.INVALID_ARGUMENT,
        /Input 'x' has an unsupported dtype: DT_COMPLEX64/,
      );
      await expectStatus(
        call(predict, 'Predict', { inputs: {} }),
        grpc.status.INVALID_ARGUMENT,
        /Missing ModelSpec/,
      );
    });

    it('maps core errors to their status and hides internal ones', async () => {
      await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'nope' }, inputs: { x: x([1]) } }),
        grpc.status.NOT_FOUND,
        /^Servable not found for request: Latest\(nope\)$/,
      );
      await expectStatus(
        call(predict, 'Predict', {
          model_spec: { name: 'half_plus_two', version: { value: '9' } },
          inputs: { x: x([1]) },
        }),
        grpc.status.NOT_FOUND,
        /Specific\(half_plus_two, 9\)/,
      );
      const err = await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'boom' }, inputs: { x: x([1]) } }),
        grpc.status.INTERNAL,
        /^Internal error \(request id [\w-]+\)$/,
      );
      assert.doesNotMatch(err.details, /secret/);
    });

    it('passes the deadline to the core and aborts its signal when the deadline passes', async () => {
      const deadline = Date.now() + 200;
      await expectStatus(
        call(predict, 'Predict', { model_spec: { name: 'slow' }, inputs: { x: x([1]) } }, { deadline }),
        grpc.status.DEADLINE_EXCEEDED,
      );
      const seen = core.lastCall?.deadline;
      assert.ok(seen !== undefined && Math.abs(seen - deadline) < 1000, `deadline ${seen} vs ${deadline}`);
      await waitFor(() => core.aborted !== undefined);
      assert.ok(core.lastCall?.signal?.aborted);
    });

    it('aborts the core signal when the client cancels', async () => {
      core.aborted = undefined;
      const pending = new Promise<grpc.ServiceError>((resolve) => {
        const c = (predict.Predict as (...a: unknown[]) => grpc.ClientUnaryCall)(
          { model_spec: { name: 'slow' }, inputs: { x: x([1]) } },
          (err: grpc.ServiceError) => resolve(err),
        );
        waitFor(
          () =>
            core.lastCall?.model === 'slow' &&
            core.aborted === undefined &&
            core.lastCall.deadline === undefined,
        ).then(() => c.cancel());
      });
      assert.equal((await pending).code, grpc.status.CANCELLED);
      await waitFor(() => core.aborted !== undefined);
      assert.equal((core.aborted as ServingError).code, 'CANCELLED');
    });

    it('refuses messages above maxMessageBytes with RESOURCE_EXHAUSTED', async () => {
      const big = {
        dtype: 'DT_FLOAT',
        tensor_shape: { dim: [{ size: '20000' }] },
        tensor_content: Buffer.alloc(80_000),
      };
      await expectStatus(
        call(predict, 'Predict', { model_spec: spec, inputs: { x: big } }),
        grpc.status.RESOURCE_EXHAUSTED,
      );
    });
  });

  describe('PredictionService: metadata and unimplemented methods', () => {
    it('answers GetModelMetadata with a SignatureDefMap packed in Any', async () => {
      const res = await call<{
        model_spec: { name: string; version: { value: string } };
        metadata: Record<string, { type_url: string; value: Buffer }>;
      }>(predict, 'GetModelMetadata', {
        model_spec: { name: 'half_plus_two' },
        metadata_field: ['signature_def'],
      });
      assert.equal(res.model_spec.name, 'half_plus_two');
      assert.equal(res.model_spec.version.value, '2');
      const any = res.metadata['signature_def'];
      assert.equal(any.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
      const SignatureDefMap = protoRoot().lookupType('tensorflow.serving.SignatureDefMap');
      const map = SignatureDefMap.toObject(SignatureDefMap.decode(any.value), {
        enums: String,
        longs: String,
      }) as {
        signature_def: Record<
          string,
          { inputs: Record<string, unknown>; outputs: Record<string, unknown>; method_name: string }
        >;
      };
      const sig = map.signature_def['serving_default'];
      assert.equal(sig.method_name, 'tensorflow/serving/predict');
      assert.deepEqual(sig.inputs['x'], {
        name: 'x',
        dtype: 'DT_FLOAT',
        tensor_shape: { dim: [{ size: '-1' }] },
      });
      assert.deepEqual(Object.keys(sig.outputs), ['y']);
    });

    it('refuses GetModelMetadata without signature_def, or with other fields', async () => {
      await expectStatus(
        call(predict, 'GetModelMetadata', { model_spec: { name: 'half_plus_two' } }),
        grpc.status.INVALID_ARGUMENT,
        /at least one metadata_field/,
      );
      await expectStatus(
        call(predict, 'GetModelMetadata', {
          model_spec: { name: 'half_plus_two' },
          metadata_field: ['signature_def', 'x'],
        }),
        grpc.status.INVALID_ARGUMENT,
        /Metadata field x is not supported/,
      );
      await expectStatus(
        call(predict, 'GetModelMetadata', {
          model_spec: { name: 'nope' },
          metadata_field: ['signature_def'],
        }),
        grpc.status.NOT_FOUND,
      );
    });

    // This front end is built without an ExampleInference (classify-regress.test.ts covers them).
    for (const method of ['Classify', 'Regress', 'MultiInference']) {
      it(`answers ${method} with UNIMPLEMENTED when the server has no tf.Example service`, async () => {
        await expectStatus(
          call(predict, method, {}),
          grpc.status.UNIMPLEMENTED,
          new RegExp(`${method} is not enabled`),
        );
      });
    }
  });

  describe('ModelService', () => {
    it('reports every version, or the selected one', async () => {
      const all = await call<{ model_version_status: unknown[] }>(models, 'GetModelStatus', {
        model_spec: { name: 'half_plus_two' },
      });
      assert.deepEqual(all.model_version_status, [
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '1', state: 'END', status: { error_code: 'UNKNOWN', error_message: 'load failed' } },
      ]);
      const one = await call<{ model_version_status: { version: string }[] }>(models, 'GetModelStatus', {
        model_spec: { name: 'half_plus_two', version: { value: '2' } },
      });
      assert.deepEqual(
        one.model_version_status.map((s) => s.version),
        ['2'],
      );
      await expectStatus(
        call(models, 'GetModelStatus', { model_spec: { name: 'nope' } }),
        grpc.status.NOT_FOUND,
      );
    });

    it('converts HandleReloadConfigRequest into model configs for the core', async () => {
      const res = await call<{ status: unknown }>(models, 'HandleReloadConfigRequest', {
        config: {
          model_config_list: {
            config: [
              {
                name: 'half_plus_two',
                base_path: '/models/half_plus_two',
                model_platform: 'onnx',
                model_version_policy: { specific: { versions: ['1', '2'] } },
                version_labels: { stable: '1' },
              },
            ],
          },
        },
      });
      assert.deepEqual(res.status, { error_code: 'OK', error_message: '' });
      assert.equal(core.reloaded?.length, 1);
      const m = core.reloaded![0];
      assert.deepEqual(
        [m.name, m.basePath, m.platform, m.versionPolicy, m.versionLabels],
        [
          'half_plus_two',
          '/models/half_plus_two',
          'onnx',
          { kind: 'specific', versions: [1, 2] },
          { stable: 1 },
        ],
      );
      await expectStatus(
        call(models, 'HandleReloadConfigRequest', {
          config: { model_config_list: { config: [{ name: 'x' }] } },
        }),
        grpc.status.INVALID_ARGUMENT,
        /missing base_path/,
      );
    });
  });

  describe('KServe GRPCInferenceService', () => {
    it('answers liveness, readiness and metadata', async () => {
      assert.deepEqual(await call(kserve, 'ServerLive', {}), { live: true });
      assert.deepEqual(await call(kserve, 'ServerReady', {}), { ready: true });
      assert.deepEqual(await call(kserve, 'ModelReady', { name: 'half_plus_two' }), { ready: true });
      assert.deepEqual(await call(kserve, 'ModelReady', { name: 'half_plus_two', version: '7' }), {
        ready: false,
      });
      const meta = await call<{ name: string; version: string; extensions: string[] }>(
        kserve,
        'ServerMetadata',
        {},
      );
      assert.equal(meta.name, 'tensorserve');
      assert.match(meta.version, /^\d+\.\d+\.\d+/);
      assert.deepEqual(await call(kserve, 'ModelMetadata', { name: 'half_plus_two' }), {
        name: 'half_plus_two',
        versions: ['2', '1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1'] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: ['-1'] }],
      });
      await expectStatus(call(kserve, 'ModelMetadata', { name: 'nope' }), grpc.status.NOT_FOUND);
      await expectStatus(
        call(kserve, 'ModelReady', { name: 'half_plus_two', version: 'v1' }),
        grpc.status.INVALID_ARGUMENT,
      );
    });

    it('infers from raw_input_contents and answers in raw_output_contents', async () => {
      const res = await call<{
        model_name: string;
        model_version: string;
        id: string;
        outputs: { name: string; datatype: string; shape: string[] }[];
        raw_output_contents: Buffer[];
      }>(kserve, 'ModelInfer', {
        model_name: 'half_plus_two',
        model_version: '1',
        id: 'req-1',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['1', '2'] }],
        raw_input_contents: [f32(2, 4)],
      });
      assert.equal(res.model_name, 'half_plus_two');
      assert.equal(res.model_version, '1');
      assert.equal(res.id, 'req-1');
      assert.deepEqual(res.outputs, [{ name: 'y', datatype: 'FP32', shape: ['1', '2'], parameters: {} }]);
      assert.deepEqual(floatsOf(res.raw_output_contents[0]), [3, 4]);
      assert.equal(core.lastCall?.api, 'infer');
    });

    it('infers from typed contents, honouring requested outputs', async () => {
      const res = await call<{ outputs: { name: string }[]; raw_output_contents: Buffer[] }>(
        kserve,
        'ModelInfer',
        {
          model_name: 'half_plus_two',
          inputs: [{ name: 'x', datatype: 'FP32', shape: ['3'], contents: { fp32_contents: [0, 2, -4] } }],
          outputs: [{ name: 'y' }],
        },
      );
      assert.deepEqual(core.lastCall?.outputFilter, ['y']);
      assert.deepEqual(floatsOf(res.raw_output_contents[0]), [2, 3, 0]);
    });

    it('refuses malformed requests with INVALID_ARGUMENT naming the tensor', async () => {
      const input = { name: 'x', datatype: 'FP32', shape: ['2'] };
      await expectStatus(
        call(kserve, 'ModelInfer', {
          model_name: 'half_plus_two',
          inputs: [input, { ...input, name: 'z' }],
          raw_input_contents: [f32(1, 2)],
        }),
        grpc.status.INVALID_ARGUMENT,
        /Expected 2 raw_input_contents/,
      );
      await expectStatus(
        call(kserve, 'ModelInfer', {
          model_name: 'half_plus_two',
          inputs: [input],
          raw_input_contents: [f32(1)],
        }),
        grpc.status.INVALID_ARGUMENT,
        /Input 'x': raw contents have 4 bytes, expected 8/,
      );
      await expectStatus(
        call(kserve, 'ModelInfer', {
          model_name: 'half_plus_two',
          inputs: [{ ...input, contents: { int_contents: [1, 2] } }],
        }),
        grpc.status.INVALID_ARGUMENT,
        /Input 'x' has 0 values in fp32_contents, expected 2/,
      );
      await expectStatus(
        call(kserve, 'ModelInfer', { inputs: [input] }),
        grpc.status.INVALID_ARGUMENT,
        /Missing model name/,
      );
      await expectStatus(
        call(kserve, 'ModelInfer', { model_name: 'nope', inputs: [input], raw_input_contents: [f32(1, 2)] }),
        grpc.status.NOT_FOUND,
      );
    });
  });

  describe('Health and reflection', () => {
    it('checks the server and each served service; unknown services are NOT_FOUND', async () => {
      for (const service of ['', 'tensorflow.serving.PredictionService', 'inference.GRPCInferenceService']) {
        assert.deepEqual(await call(health, 'Check', { service }), { status: 'SERVING' });
      }
      await expectStatus(call(health, 'Check', { service: 'nope.Service' }), grpc.status.NOT_FOUND);
    });

    it('streams NOT_SERVING then SERVING to watchers, and NOT_SERVING when draining', async () => {
      core.isReady = false;
      server.setServing(true);
      const stream = (health.Watch as (req: object) => grpc.ClientReadableStream<{ status: string }>)({
        service: '',
      });
      const seen: string[] = [];
      stream.on('data', (m: { status: string }) => seen.push(m.status));
      stream.on('error', () => {});
      await waitFor(() => seen.length === 1);
      assert.deepEqual(await call(kserve, 'ServerReady', {}), { ready: false });
      core.isReady = true;
      server.setServing(true);
      await waitFor(() => seen.length === 2);
      server.setServing(false);
      await waitFor(() => seen.length === 3);
      assert.deepEqual(seen, ['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
      stream.cancel();
      server.setServing(true);
      assert.deepEqual(await call(health, 'Check', { service: '' }), { status: 'SERVING' });
    });

    it('lists the served services through server reflection', async () => {
      const require = createRequire(import.meta.url);
      const reflectionProto = path.join(
        path.dirname(require.resolve('@grpc/reflection/package.json')),
        'build/proto/grpc/reflection/v1/reflection.proto',
      );
      const def = protoLoader.loadSync(reflectionProto, { keepCase: true });
      const pkg = grpc.loadPackageDefinition(def) as unknown as {
        grpc: { reflection: { v1: { ServerReflection: Ctor } } };
      };
      const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
      const stream = (
        client.ServerReflectionInfo as () => grpc.ClientDuplexStream<
          object,
          { list_services_response: { service: { name: string }[] } }
        >
      )();
      const reply = await new Promise<{ list_services_response: { service: { name: string }[] } }>(
        (resolve, reject) => {
          stream.on('data', resolve);
          stream.on('error', reject);
          stream.write({ list_services: '' });
        },
      );
      stream.end();
      client.close();
      const names = reply.list_services_response.service.map((s) => s.name);
      for (const s of [
        'tensorflow.serving.PredictionService',
        'tensorflow.serving.ModelService',
        'inference.GRPCInferenceService',
        'grpc.health.v1.Health',
      ]) {
        assert.ok(names.includes(s), `${s} in ${names.join(', ')}`);
      }
    });
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

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}
