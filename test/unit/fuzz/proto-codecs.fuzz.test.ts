import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeBytesElements } from '../../../src/main/codecs/bytes-framing.js';
import {
  decodeModelInferRequest as fastInfer,
  decodePredictRequest as fastPredict,
} from '../../../src/main/codecs/grpc-fast-codec.js';
import { KSERVE_DATATYPES } from '../../../src/main/codecs/kserve-dtype.js';
import { decodeInferInputs, type InferInputTensorObject } from '../../../src/main/codecs/kserve-grpc.js';
import { decodeTensorProto, type TensorProtoObject } from '../../../src/main/codecs/tensor-proto.js';
import { TF_DATA_TYPES } from '../../../src/main/codecs/tf-dtype.js';
import { bytes, decodesOrRefuses, fuzzParams, grpcMethod, mutated } from './fuzz-support.js';

const OPTS = { maxElements: 10_000 };

const dimSize = fc.oneof(
  fc.integer({ min: -3, max: 8 }),
  fc.constantFrom('0', '1', '-1', '9223372036854775807', '-9223372036854775808', '4611686018427387904'),
);
const tensorProto: fc.Arbitrary<TensorProtoObject> = fc.record(
  {
    dtype: fc.oneof(fc.constantFrom(...Object.keys(TF_DATA_TYPES)), fc.integer({ min: -1, max: 30 })),
    tensor_shape: fc.record(
      {
        dim: fc.array(fc.record({ size: dimSize }, { requiredKeys: [] }), { maxLength: 4 }),
        unknown_rank: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    tensor_content: bytes,
    float_val: fc.array(fc.float(), { maxLength: 8 }),
    double_val: fc.array(fc.double(), { maxLength: 8 }),
    int_val: fc.array(fc.integer(), { maxLength: 8 }),
    string_val: fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 8 }),
    int64_val: fc.array(fc.oneof(fc.integer(), fc.bigInt().map(String)), { maxLength: 8 }),
    bool_val: fc.array(fc.boolean(), { maxLength: 8 }),
    half_val: fc.array(fc.integer({ min: -1, max: 70000 }), { maxLength: 8 }),
    uint32_val: fc.array(fc.nat(), { maxLength: 8 }),
    uint64_val: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), { maxLength: 8 }),
  },
  { requiredKeys: [] },
);

const contents = fc.record(
  {
    bool_contents: fc.array(fc.boolean(), { maxLength: 8 }),
    int_contents: fc.array(fc.integer(), { maxLength: 8 }),
    int64_contents: fc.array(fc.bigInt().map(String), { maxLength: 8 }),
    uint_contents: fc.array(fc.nat(), { maxLength: 8 }),
    uint64_contents: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), { maxLength: 8 }),
    fp32_contents: fc.array(fc.float(), { maxLength: 8 }),
    fp64_contents: fc.array(fc.double(), { maxLength: 8 }),
    bytes_contents: fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 8 }),
  },
  { requiredKeys: [] },
);
const inferInput: fc.Arbitrary<InferInputTensorObject> = fc.record(
  {
    name: fc.oneof(fc.constantFrom('x', 'y'), fc.string({ maxLength: 4 })),
    datatype: fc.oneof(fc.constantFrom(...KSERVE_DATATYPES), fc.constantFrom('FP8', 'fp32', '')),
    shape: fc.array(dimSize, { maxLength: 4 }),
    contents,
  },
  { requiredKeys: [] },
);

describe('codec fuzzing: tensor messages decode or refuse with a client error', () => {
  it('TensorProto objects (every dtype, hostile dims, content and typed lists)', () => {
    fc.assert(
      fc.property(tensorProto, (msg) => decodesOrRefuses(() => decodeTensorProto('x', msg, OPTS))),
      fuzzParams(2000),
    );
  });

  it('KServe ModelInfer inputs with and without raw_input_contents', () => {
    fc.assert(
      fc.property(
        fc.array(inferInput, { maxLength: 3 }),
        fc.option(fc.array(bytes, { maxLength: 4 }), { nil: undefined }),
        (inputs, raw) => decodesOrRefuses(() => decodeInferInputs(inputs, raw, OPTS)),
      ),
      fuzzParams(2000),
    );
  });

  it('BYTES framing: arbitrary bytes and element counts', () => {
    fc.assert(
      fc.property(bytes, fc.nat({ max: 64 }), (raw, count) =>
        decodesOrRefuses(() => decodeBytesElements(raw, count, "Input 'x'")),
      ),
      fuzzParams(2000),
    );
  });

  it('PredictRequest and ModelInferRequest wire bytes, mutated after serialization', () => {
    const predict = grpcMethod('tensorflow.serving.PredictionService', 'Predict');
    const infer = grpcMethod('inference.GRPCInferenceService', 'ModelInfer');
    const predictWire = fc
      .dictionary(fc.constantFrom('x', 'y'), tensorProto, { maxKeys: 2 })
      .chain((inputs) => mutated(predict.requestSerialize({ model_spec: { name: 'm' }, inputs }), 4));
    const inferWire = fc
      .tuple(fc.array(inferInput, { maxLength: 2 }), fc.array(bytes, { maxLength: 2 }))
      .chain(([inputs, raw]) =>
        mutated(infer.requestSerialize({ model_name: 'm', inputs, raw_input_contents: raw }), 4),
      );
    fc.assert(
      fc.property(predictWire, inferWire, (p, k) => {
        // Bytes protobufjs itself cannot read are grpc-js's to refuse; decoding starts after it.
        let req: { inputs?: Record<string, TensorProtoObject> } | undefined;
        try {
          req = predict.requestDeserialize(p) as typeof req;
        } catch {}
        if (req)
          for (const [n, t] of Object.entries(req.inputs ?? {}))
            decodesOrRefuses(() => decodeTensorProto(n, t, OPTS));
        let inf: { inputs?: InferInputTensorObject[]; raw_input_contents?: Uint8Array[] } | undefined;
        try {
          inf = infer.requestDeserialize(k) as typeof inf;
        } catch {}
        if (inf) decodesOrRefuses(() => decodeInferInputs(inf.inputs ?? [], inf.raw_input_contents, OPTS));
        // The hand-written hot-path decoders: they decode the message or hand it to proto-loader
        // (undefined), never throw; what they decode, the tensor codecs decode or refuse.
        const fp = fastPredict(p);
        if (fp)
          for (const [n, t] of Object.entries(fp.inputs))
            decodesOrRefuses(() => decodeTensorProto(n, t, OPTS));
        const fk = fastInfer(k);
        if (fk) decodesOrRefuses(() => decodeInferInputs(fk.inputs, fk.raw_input_contents, OPTS));
      }),
      fuzzParams(1000),
    );
  });
});
