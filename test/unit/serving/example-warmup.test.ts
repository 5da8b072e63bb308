import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { ServingError } from '../../../src/core/errors.js';
import { PREDICT_METHOD, type Signature } from '../../../src/core/signature.js';
import type { TensorMap } from '../../../src/core/tensor.js';
import type { ExampleSignature } from '../../../src/main/config/example-signatures.js';
import { findProtoDir } from '../../../src/main/grpc/grpc-protos.js';
import {
  type ExampleReplayTarget,
  exampleWarmupReplayers,
} from '../../../src/main/serving/example-warmup.js';

/** half_plus_two's signature and its declared tf.Example signatures. */
const SIGNATURE: Signature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1] }],
  batched: true,
  methodName: PREDICT_METHOD,
};
const DECLARED: Record<string, ExampleSignature> = {
  regress_x_to_y: { name: 'regress_x_to_y', method: 'regress', inputs: { x: 'x' }, values: 'y' },
  classify_x_to_y: { name: 'classify_x_to_y', method: 'classify', inputs: { x: 'x' }, scores: 'y' },
};
const TARGET: ExampleReplayTarget = {
  model: 'half_plus_two',
  key: 'half_plus_two#1',
  signature: SIGNATURE,
  maxTensorElements: 1000,
  deadline: undefined,
};

/** A queue computing y = x/2 + 2 that records what it ran. */
function fakeQueue() {
  const ran: { key: string; x: number[]; outputNames: readonly string[] }[] = [];
  return {
    ran,
    async enqueue(key: string, req: { inputs: TensorMap; outputNames: readonly string[] }) {
      const x = Array.from(req.inputs.x.data as Float32Array);
      ran.push({ key, x, outputNames: req.outputNames });
      const y = new Float32Array(x.map((v) => v / 2 + 2));
      return { outputs: { y: { dtype: 'float32', shape: [x.length], data: y } } };
    },
  };
}

/** Round-trips a request through the real protos, decoded as warmup logs are (oneof names, Buffers). */
function decoded(type: string, request: object): object {
  const dir = findProtoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync('tensorflow_serving/apis/inference.proto', { keepCase: true });
  const t = root.lookupType(type);
  return t.toObject(t.decode(t.encode(t.fromObject(request)).finish()), {
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: false,
    arrays: true,
    objects: true,
    oneofs: true,
  });
}

const input = (...xs: number[]) => ({
  example_list: {
    examples: xs.map((x) => ({ features: { feature: { x: { float_list: { value: [x] } } } } })),
  },
});

describe('warmup replay of classify, regress and multi_inference logs', () => {
  it('runs each kind through the queue with the examples stacked', async () => {
    const queue = fakeQueue();
    const replay = exampleWarmupReplayers(queue, (m) => (m === 'half_plus_two' ? DECLARED : undefined));
    await replay.regress_log(
      decoded('tensorflow.serving.RegressionRequest', {
        model_spec: { signature_name: 'regress_x_to_y' },
        input: input(1, 2),
      }),
      TARGET,
    );
    await replay.classify_log(
      decoded('tensorflow.serving.ClassificationRequest', {
        model_spec: { signature_name: 'classify_x_to_y' },
        input: input(3),
      }),
      TARGET,
    );
    await replay.multi_inference_log(
      decoded('tensorflow.serving.MultiInferenceRequest', {
        tasks: [
          { model_spec: { signature_name: 'regress_x_to_y' }, method_name: 'tensorflow/serving/regress' },
          { model_spec: { signature_name: 'classify_x_to_y' }, method_name: 'tensorflow/serving/classify' },
        ],
        input: input(4),
      }),
      TARGET,
    );
    assert.deepEqual(queue.ran, [
      { key: 'half_plus_two#1', x: [1, 2], outputNames: ['y'] },
      { key: 'half_plus_two#1', x: [3], outputNames: ['y'] },
      { key: 'half_plus_two#1', x: [4], outputNames: ['y'] },
    ]);
  });

  it('fails a record naming an undeclared signature, the wrong method, or no examples', async () => {
    const queue = fakeQueue();
    const replay = exampleWarmupReplayers(queue, () => DECLARED);
    const fails = async (p: Promise<void>, pattern: RegExp) =>
      assert.rejects(p, (e: unknown) => e instanceof ServingError && pattern.test(e.message));
    await fails(
      replay.classify_log(
        decoded('tensorflow.serving.ClassificationRequest', { model_spec: {}, input: input(1) }),
        TARGET,
      ),
      /Signature 'serving_default' is not a declared classify signature/,
    );
    await fails(
      replay.classify_log(
        decoded('tensorflow.serving.ClassificationRequest', {
          model_spec: { signature_name: 'regress_x_to_y' },
          input: input(1),
        }),
        TARGET,
      ),
      /is a regress signature, not classify/,
    );
    await fails(
      replay.regress_log(
        decoded('tensorflow.serving.RegressionRequest', {
          model_spec: { signature_name: 'regress_x_to_y' },
          input: { example_list: {} },
        }),
        TARGET,
      ),
      /no examples/,
    );
    assert.equal(queue.ran.length, 0);
  });
});
