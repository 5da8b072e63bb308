import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorCode, ServingError } from '../../../src/core/errors.js';
import type { Tensor } from '../../../src/core/tensor.js';
import { dtypeOfKServe, kserveDatatype } from '../../../src/main/codecs/kserve-dtype.js';
import { decodeInferRequest, encodeInferResponse } from '../../../src/main/codecs/kserve-json.js';
import { SAMPLE_TENSORS } from './kserve-samples.js';

function fails(body: unknown, message: string | RegExp, code: ErrorCode = 'INVALID_ARGUMENT'): void {
  assert.throws(
    () => decodeInferRequest(body, { maxElements: 100 }),
    (err: unknown) => {
      assert.ok(err instanceof ServingError);
      assert.equal(err.code, code);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

const input = (over: Record<string, unknown>) => ({
  inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1, 2], ...over }],
});

describe('decodeInferRequest', () => {
  it('decodes id, parameters, inputs in order and requested outputs', () => {
    const req = decodeInferRequest({
      id: 'r1',
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'b', shape: [2, 2], datatype: 'INT32', data: [1, 2, 3, 4] },
        { name: 'a', shape: [1], datatype: 'BYTES', data: ['hi'] },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }],
    });
    assert.equal(req.id, 'r1');
    assert.deepEqual(req.parameters, { binary_data_output: true });
    assert.deepEqual(req.inputOrder, ['b', 'a']);
    assert.deepEqual(req.inputs['b'], { dtype: 'int32', shape: [2, 2], data: new Int32Array([1, 2, 3, 4]) });
    assert.deepEqual(req.outputs, [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }]);
  });

  it('accepts nested data whose element count matches the shape', () => {
    const req = decodeInferRequest(
      input({
        shape: [2, 2],
        data: [
          [1, 2],
          [3, 4],
        ],
      }),
    );
    assert.deepEqual(req.inputs['x'].shape, [2, 2]);
    assert.deepEqual(req.inputs['x'].data, new Float32Array([1, 2, 3, 4]));
  });

  it('rejects data whose element count differs from the shape', () => {
    fails(input({ shape: [3] }), "Input 'x': 'data' has 2 elements but shape [3] needs 3");
    fails(input({ data: 1 }), "Input 'x': 'data' must be a list");
    fails(input({ data: undefined }), "Input 'x': missing 'data'");
  });

  it('validates names, shapes and datatypes, naming the input', () => {
    fails({ inputs: [{ shape: [1], datatype: 'FP32', data: [1] }] }, /non-empty string 'name'/);
    fails(input({ shape: [-1] }), "Input 'x': 'shape' must be a list of non-negative integers");
    fails(input({ datatype: 'FLOAT' }), `Input 'x': unknown datatype "FLOAT"`);
    fails(input({ datatype: 'BF16' }), "Input 'x': datatype BF16 is not supported", 'UNIMPLEMENTED');
    fails(
      input({ datatype: 'FP16' }),
      "Input 'x': FP16 data is only accepted through the binary tensor extension",
    );
    fails(input({ datatype: 'INT8', data: [1, 300] }), "Input 'x' of dtype int8: value 300 is out of range");
    fails(input({ datatype: 'BOOL', data: [true, 1] }), /expected true or false/);
    fails(input({ datatype: 'BYTES', data: ['a', { b64: 'AA==' }] }), /expected a string, got an object/);
    fails(input({ shape: [101], data: [] }), "Input 'x' has 101 elements, more than the limit of 100");
    fails(input({ parameters: { binary_data_size: 8 }, data: undefined }), /carries no binary data/);
  });

  it('validates the request envelope', () => {
    fails([], 'Request body must be a JSON object');
    fails({ inputs: {} }, "'inputs' must be a list of input tensors");
    fails({ id: 3, inputs: [] }, "'id' must be a string");
    fails({ inputs: [], outputs: [{}] }, /'outputs' must be an object with a string 'name'/);
    fails({ inputs: [input({}).inputs[0], input({}).inputs[0]] }, "Input 'x' appears more than once");
  });
});

describe('encodeInferResponse', () => {
  it('writes model, id and outputs with flat data', () => {
    const t: Tensor = { dtype: 'float32', shape: [2, 2], data: new Float32Array([0.1, 2, Number.NaN, -0.5]) };
    assert.equal(
      encodeInferResponse({
        modelName: 'm',
        modelVersion: '3',
        id: 'r1',
        outputs: [{ name: 'y', tensor: t }],
      }),
      '{"model_name":"m","model_version":"3","id":"r1","outputs":[{"name":"y","datatype":"FP32","shape":[2,2],"data":[0.1,2.0,NaN,-0.5]}]}',
    );
  });

  it('round-trips every JSON datatype through decodeInferRequest', () => {
    for (const [datatype, tensor] of Object.entries(SAMPLE_TENSORS)) {
      if (datatype === 'FP16') continue;
      const text = encodeInferResponse({
        modelName: 'm',
        modelVersion: '1',
        outputs: [{ name: 'o', tensor }],
      });
      const out = JSON.parse(text).outputs[0];
      assert.equal(out.datatype, datatype);
      // JSON.parse cannot read bare NaN; the samples are finite.
      const req = decodeInferRequest({ inputs: [{ ...out, data: out.data }] });
      assert.deepEqual(req.inputs['o'], tensor, datatype);
    }
  });
});

describe('kserve-dtype', () => {
  it('maps datatype names both ways', () => {
    assert.equal(kserveDatatype('float32'), 'FP32');
    assert.equal(kserveDatatype('string'), 'BYTES');
    assert.equal(dtypeOfKServe('UINT64'), 'uint64');
    assert.equal(dtypeOfKServe('FP16'), 'float16');
    assert.equal(dtypeOfKServe('BF16'), undefined);
  });
});
