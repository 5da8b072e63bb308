import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DType } from '../../../src/core/dtype.js';
import { type ErrorCode, ServingError } from '../../../src/core/errors.js';
import type { Signature } from '../../../src/core/signature.js';
import { parseJsonBody } from '../../../src/main/codecs/json-body.js';
import { decodePredictRequest, hasIntegerInputs } from '../../../src/main/codecs/tfs-predict-request.js';

function sig(...inputs: [string, DType][]): Signature {
  return {
    inputs: inputs.map(([name, dtype]) => ({ name, dtype, shape: [-1] })),
    outputs: [{ name: 'y', dtype: 'float32', shape: [-1] }],
    batched: true,
    methodName: 'tensorflow/serving/predict',
  };
}

const X = sig(['x', 'float32']);
const XY = sig(['x', 'float32'], ['y', 'int32']);

function fails(
  body: unknown,
  s: Signature,
  message: string | RegExp,
  code: ErrorCode = 'INVALID_ARGUMENT',
): void {
  assert.throws(
    () => decodePredictRequest(body, s, { maxElements: 1000 }),
    (err: unknown) => {
      assert.ok(err instanceof ServingError);
      assert.equal(err.code, code);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('decodePredictRequest: body shape', () => {
  it('requires an object body with exactly one of instances/inputs', () => {
    fails([1], X, 'Request body must be a JSON object');
    fails({}, X, "Missing 'inputs' or 'instances' key");
    fails({ instances: [1], inputs: [1] }, X, /only one of 'inputs' or 'instances'/);
    fails({ signature_name: 3, instances: [1] }, X, "'signature_name' must be a string");
  });

  it('defaults the signature name and keeps a given one', () => {
    assert.equal(decodePredictRequest({ instances: [1] }, X).signatureName, 'serving_default');
    assert.equal(decodePredictRequest({ signature_name: 'other', inputs: [1] }, X).signatureName, 'other');
  });
});

describe('decodePredictRequest: row format', () => {
  it('stacks value elements into [N, ...]', () => {
    const r = decodePredictRequest(
      {
        instances: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      },
      X,
    );
    assert.equal(r.format, 'row');
    assert.deepEqual(r.inputs['x'].shape, [3, 2]);
    assert.deepEqual(r.inputs['x'].data, new Float32Array([1, 2, 3, 4, 5, 6]));
    assert.deepEqual(decodePredictRequest({ instances: [7, 8] }, X).inputs['x'].shape, [2]);
  });

  it('accepts objects keyed by the single input name', () => {
    const r = decodePredictRequest({ instances: [{ x: [1, 2] }, { x: [3, 4] }] }, X);
    assert.deepEqual(r.inputs['x'].shape, [2, 2]);
    assert.deepEqual(r.inputs['x'].data, new Float32Array([1, 2, 3, 4]));
    fails({ instances: [{ z: 1 }] }, X, "Missing named input: x in 'instances' element 0.");
    fails({ instances: [{ x: 1 }, 2] }, X, /element 1 must be an object/);
    fails({ instances: [1, { x: 2 }] }, X, /element 1 must be a value or list/);
  });

  it('requires several inputs as objects with exactly the input names', () => {
    const r = decodePredictRequest(
      {
        instances: [
          { x: [1], y: 2 },
          { x: [3], y: 4 },
        ],
      },
      XY,
    );
    assert.deepEqual(r.inputs['x'].shape, [2, 1]);
    assert.deepEqual(r.inputs['y'].shape, [2]);
    assert.deepEqual(r.inputs['y'].data, new Int32Array([2, 4]));
    fails({ instances: [[1, 2]] }, XY, /element 0 must be an object keyed by the input names: x, y/);
    fails({ instances: [{ x: 1 }] }, XY, "Missing named input: y in 'instances' element 0.");
    fails({ instances: [{ x: 1, y: 2, z: 3 }] }, XY, /Unknown named input: z in 'instances' element 0/);
  });

  it('rejects empty and non-list instances', () => {
    fails({ instances: [] }, X, "'instances' must be a non-empty list");
    fails({ instances: 3 }, X, "'instances' must be a list");
  });

  it('rejects ragged elements', () => {
    fails({ instances: [[1, 2], [3]] }, X, /^Encountered list at unexpected size \(input 'x'\)/);
    fails(
      {
        instances: [
          [1, 2],
          [3, [4]],
        ],
      },
      X,
      /^Encountered list at unexpected size/,
    );
    fails({ instances: [[1, 2], 3] }, X, /^Encountered list at unexpected size/);
    fails(
      {
        instances: [
          [[1], [2]],
          [[3], 4],
        ],
      },
      X,
      /^Encountered list at unexpected size/,
    );
  });
});

describe('decodePredictRequest: columnar format', () => {
  it('takes a bare value or list for a single input, with no batch dim added', () => {
    const r = decodePredictRequest({ inputs: [[1, 2, 3]] }, X);
    assert.equal(r.format, 'columnar');
    assert.deepEqual(r.inputs['x'].shape, [1, 3]);
    const scalar = decodePredictRequest({ inputs: 5 }, X);
    assert.deepEqual(scalar.inputs['x'].shape, []);
    assert.deepEqual(scalar.inputs['x'].data, new Float32Array([5]));
  });

  it('takes an object mapping every input name', () => {
    const r = decodePredictRequest({ inputs: { x: [1, 2], y: [[3]] } }, XY);
    assert.deepEqual(r.inputs['x'].shape, [2]);
    assert.deepEqual(r.inputs['y'].shape, [1, 1]);
    fails({ inputs: { x: [1] } }, XY, "Missing named input: y in 'inputs' object.");
    fails({ inputs: { z: [1] } }, X, "Missing named input: x in 'inputs' object.");
    fails({ inputs: [1, 2] }, XY, /'inputs' must be an object keyed by the input names: x, y/);
  });

  it('accepts empty lists', () => {
    assert.deepEqual(decodePredictRequest({ inputs: [[], []] }, X).inputs['x'].shape, [2, 0]);
  });
});

describe('decodePredictRequest: dtypes', () => {
  it('reads floats, including NaN and Infinity', () => {
    const t = decodePredictRequest({ inputs: [0.5, Number.NaN, -Infinity] }, sig(['x', 'float64'])).inputs[
      'x'
    ];
    assert.deepEqual([...(t.data as Float64Array)], [0.5, Number.NaN, -Infinity]);
    fails({ inputs: ['1'] }, X, `Input 'x' of dtype float32: expected a number, got "1"`);
    fails({ inputs: [1e39] }, X, "Input 'x' of dtype float32: value 1e+39 is out of range");
  });

  it('reads integer dtypes: integral values only, within range', () => {
    const t = decodePredictRequest({ inputs: [-128, 127] }, sig(['x', 'int8'])).inputs['x'];
    assert.deepEqual(t.data, new Int8Array([-128, 127]));
    assert.deepEqual(
      decodePredictRequest({ inputs: [255] }, sig(['x', 'uint8'])).inputs['x'].data,
      new Uint8Array([255]),
    );
    fails({ inputs: [1.5] }, sig(['x', 'int32']), "Input 'x' of dtype int32: expected an integer, got 1.5");
    fails({ inputs: [256] }, sig(['x', 'uint8']), "Input 'x' of dtype uint8: value 256 is out of range");
    fails({ inputs: [-1] }, sig(['x', 'uint16']), "Input 'x' of dtype uint16: value -1 is out of range");
    fails({ inputs: [40000] }, sig(['x', 'int16']), /value 40000 is out of range/);
    fails({ inputs: [true] }, sig(['x', 'int32']), /expected an integer, got true/);
  });

  it('reads int64 and uint64 as BigInt', () => {
    const t = decodePredictRequest({ inputs: [-5, 2 ** 40] }, sig(['x', 'int64'])).inputs['x'];
    assert.deepEqual(t.data, new BigInt64Array([-5n, 2n ** 40n]));
    const u = decodePredictRequest({ inputs: [7] }, sig(['x', 'uint64'])).inputs['x'];
    assert.deepEqual(u.data, new BigUint64Array([7n]));
    fails({ inputs: [2 ** 63] }, sig(['x', 'int64']), /out of range/);
    fails({ inputs: [-1] }, sig(['x', 'uint64']), /out of range/);
  });

  it('reads bools as true/false only', () => {
    const t = decodePredictRequest({ inputs: [true, false] }, sig(['x', 'bool'])).inputs['x'];
    assert.deepEqual(t.data, new Uint8Array([1, 0]));
    fails({ inputs: [1] }, sig(['x', 'bool']), "Input 'x' of dtype bool: expected true or false, got 1");
  });

  it('reads strings as UTF-8 and {"b64": ...} as bytes', () => {
    const S = sig(['s', 'string']);
    const t = decodePredictRequest({ instances: ['héllo', { b64: 'AAEC/w==' }] }, S).inputs['s'];
    const data = t.data as Uint8Array[];
    assert.equal(Buffer.from(data[0]).toString('utf8'), 'héllo');
    assert.deepEqual([...data[1]], [0, 1, 2, 255]);
    assert.equal(data[1].byteOffset, 0);
    fails({ inputs: [{ b64: '!!!' }] }, S, "Input 's': unable to base64 decode the 'b64' value");
    fails({ inputs: [{ b64: 'AA==', x: 1 }] }, S, /expected a string or \{"b64": "..."\}, got an object/);
    fails({ inputs: [3] }, S, /expected a string or \{"b64": "..."\}, got 3/);
  });

  it('answers UNIMPLEMENTED for float16 inputs', () => {
    fails({ inputs: [1] }, sig(['h', 'float16']), /float16/, 'UNIMPLEMENTED');
  });

  it('rejects tensors over the element limit, naming it', () => {
    fails({ inputs: new Array(1001).fill(0) }, X, "Input 'x' has 1001 elements, more than the limit of 1000");
  });
});

describe('decodePredictRequest: exact numbers from the body text', () => {
  /** Parses `inputs` JSON text with exact numbers, as the REST route does for integer inputs. */
  const body = (inputs: string) =>
    parseJsonBody(`{"inputs": ${inputs}}`, { maxDepth: 8 }, { exactNumbers: true });
  const data = (inputs: string, dtype: DType) =>
    decodePredictRequest(body(inputs), sig(['x', dtype])).inputs['x'].data;

  it('reads int64 beyond 2^53 exactly, up to INT64_MIN and INT64_MAX', () => {
    assert.deepEqual(
      data('[9007199254740993, -9223372036854775808, 9223372036854775807]', 'int64'),
      new BigInt64Array([9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n]),
    );
    fails(body('[9223372036854775808]'), sig(['x', 'int64']), /value 9223372036854775808 is out of range/);
    fails(body('[-9223372036854775809]'), sig(['x', 'int64']), /value -9223372036854775809 is out of range/);
  });

  it('reads uint64 up to UINT64_MAX exactly', () => {
    assert.deepEqual(data('[18446744073709551615, 0]', 'uint64'), new BigUint64Array([2n ** 64n - 1n, 0n]));
    fails(body('[18446744073709551616]'), sig(['x', 'uint64']), /value 18446744073709551616 is out of range/);
  });

  it('rejects 1.0, 1.5 and 1e3 for integer dtypes, naming the input and the token', () => {
    const I32 = sig(['x', 'int32']);
    fails(body('[1.0]'), I32, "Input 'x' of dtype int32: expected an integer, got 1.0");
    fails(body('[1.5]'), I32, "Input 'x' of dtype int32: expected an integer, got 1.5");
    fails(body('[1e3]'), I32, "Input 'x' of dtype int32: expected an integer, got 1e3");
    fails(body('[2.0]'), sig(['x', 'int64']), "Input 'x' of dtype int64: expected an integer, got 2.0");
    fails(body('[12345678901234567]'), I32, /value 12345678901234567 is out of range/);
  });

  it('still takes 1.0 and 1e3 for float inputs', () => {
    assert.deepEqual(data('[1.0, 1e3, 0.5]', 'float32'), new Float32Array([1, 1000, 0.5]));
    assert.deepEqual(data('[9007199254740993]', 'float64'), new Float64Array([9007199254740992]));
    assert.deepEqual(decodePredictRequest(body('1.0'), X).inputs['x'].data, new Float32Array([1]));
  });

  it('tells which signatures need exact numbers', () => {
    assert.equal(hasIntegerInputs(X), false);
    assert.equal(hasIntegerInputs(sig(['s', 'string'], ['b', 'bool'], ['h', 'float64'])), false);
    assert.equal(hasIntegerInputs(XY), true);
    assert.equal(hasIntegerInputs(sig(['u', 'uint64'])), true);
  });
});
