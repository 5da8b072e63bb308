import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import {
  decodeModelInferRequest,
  decodePredictRequest,
  encodeModelInferResponse,
  encodePredictResponse,
} from '../../../src/main/codecs/grpc-fast-codec.js';
import { loadProtos, serviceDefinition } from '../../../src/main/grpc/grpc-protos.js';

type Method = grpc.MethodDefinition<unknown, unknown>;

function method(service: string, name: string): Method {
  return (serviceDefinition(loadProtos(), service) as unknown as Record<string, Method>)[name];
}

const infer = method('inference.GRPCInferenceService', 'ModelInfer');
const predict = method('tensorflow.serving.PredictionService', 'Predict');

/**
 * proto-loader's object in the fast codec's form: int64 strings as numbers, and the empty
 * typed value lists of a TensorProto absent (handlers read them with `?? []`).
 */
function normalized(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer')
        return `bytes:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
      return v;
    }),
    (k, v: unknown) => {
      if (Array.isArray(v) && v.length === 0 && k.endsWith('_val')) return undefined;
      return typeof v === 'string' && /^\d+$/.test(v) && v.length < 16 ? Number(v) : v;
    },
  );
}

const image = Buffer.from(new Float32Array([1.5, -2, 3.25, 0]).buffer);

describe('hand-written gRPC codecs', () => {
  it('decode a raw-contents ModelInferRequest as proto-loader does, bytes as views', () => {
    const wire = infer.requestSerialize({
      model_name: 'cnn',
      model_version: '2',
      id: 'r1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2, 2] }],
      outputs: [{ name: 'y' }],
      raw_input_contents: [image],
    });
    const fast = decodeModelInferRequest(wire);
    assert.ok(fast);
    assert.deepEqual(normalized(fast), normalized(infer.requestDeserialize(wire)));
    assert.equal(fast.raw_input_contents[0].buffer, wire.buffer, 'a view over the message');
  });

  it('leave typed contents and parameters to the general codec', () => {
    const typed = infer.requestSerialize({
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1, 2] } }],
    });
    assert.equal(decodeModelInferRequest(typed), undefined);
    const params = infer.requestSerialize({ model_name: 'm', parameters: { a: { int64_param: 1 } } });
    assert.equal(decodeModelInferRequest(params), undefined);
    assert.equal(decodeModelInferRequest(Buffer.from([0x0a, 0x05, 0x61])), undefined, 'truncated');
  });

  it('decode a tensor_content PredictRequest as proto-loader does', () => {
    for (const spec of [
      { name: 'cnn', version: { value: '3' }, signature_name: 'serving_default' },
      { name: 'cnn', version_label: 'stable' },
      { name: 'cnn' },
    ]) {
      const wire = predict.requestSerialize({
        model_spec: spec,
        inputs: {
          x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 4 }] }, tensor_content: image },
        },
        output_filter: ['y'],
      });
      const fast = decodePredictRequest(wire);
      assert.ok(fast);
      assert.deepEqual(normalized(fast), normalized(predict.requestDeserialize(wire)));
    }
  });

  it('leave typed value lists to the general codec', () => {
    const wire = predict.requestSerialize({
      model_spec: { name: 'm' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 2 }] }, float_val: [1, 2] } },
    });
    assert.equal(decodePredictRequest(wire), undefined);
  });

  it('encode responses that proto-loader decodes to the same objects', () => {
    const inferRes = {
      model_name: 'cnn',
      model_version: '1',
      id: 'r1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['1', '4'] }],
      raw_output_contents: [image],
    };
    const a = encodeModelInferResponse(inferRes);
    assert.ok(a);
    assert.deepEqual(
      normalized(infer.responseDeserialize(a)),
      normalized(infer.responseDeserialize(infer.responseSerialize(inferRes))),
    );
    const predictRes = {
      model_spec: { name: 'cnn', version: { value: '1' }, signature_name: 'serving_default' },
      outputs: {
        y: {
          dtype: 'DT_FLOAT',
          tensor_shape: { dim: [{ size: '1' }, { size: '4' }] },
          tensor_content: image,
        },
        z: { dtype: 'DT_INT32', tensor_shape: { dim: [] }, tensor_content: Buffer.alloc(4) },
      },
    };
    const b = encodePredictResponse(predictRes);
    assert.ok(b);
    assert.deepEqual(
      normalized(predict.responseDeserialize(b)),
      normalized(predict.responseDeserialize(predict.responseSerialize(predictRes))),
    );
    const typed = { ...predictRes, outputs: { y: { dtype: 'DT_FLOAT', float_val: [1] } } };
    assert.equal(encodePredictResponse(typed), undefined, 'typed values take the general codec');
  });
});
