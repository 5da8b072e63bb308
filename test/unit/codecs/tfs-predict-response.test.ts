import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { Tensor } from '../../../src/core/tensor.js';
import { parseJsonBody } from '../../../src/main/codecs/json-body.js';
import { encodePredictResponse } from '../../../src/main/codecs/tfs-predict-response.js';

const f32 = (shape: number[], values: number[]): Tensor => ({
  dtype: 'float32',
  shape,
  data: new Float32Array(values),
});
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('encodePredictResponse', () => {
  it('writes one output without its name', () => {
    const t = f32([2, 2], [0.1, 0.2, 1, -3.5]);
    assert.equal(encodePredictResponse({ y: t }, 'row', ['y']), '{"predictions":[[0.1,0.2],[1.0,-3.5]]}');
    assert.equal(encodePredictResponse({ y: t }, 'columnar', ['y']), '{"outputs":[[0.1,0.2],[1.0,-3.5]]}');
  });

  it('writes several outputs per row, or as a name map in columnar form', () => {
    const outputs = {
      a: f32([2], [1, 2]),
      b: {
        dtype: 'int64',
        shape: [2, 2],
        data: new BigInt64Array([9007199254740993n, -1n, 3n, 4n]),
      } as Tensor,
    };
    assert.equal(
      encodePredictResponse(outputs, 'row', ['a', 'b']),
      '{"predictions":[{"a":1.0,"b":[9007199254740993,-1]},{"a":2.0,"b":[3,4]}]}',
    );
    assert.equal(
      encodePredictResponse(outputs, 'columnar', ['b', 'a']),
      '{"outputs":{"b":[[9007199254740993,-1],[3,4]],"a":[1.0,2.0]}}',
    );
  });

  it('follows outputOrder and only writes listed outputs', () => {
    const outputs = { a: f32([1], [1]), b: f32([1], [2]) };
    assert.equal(encodePredictResponse(outputs, 'columnar', ['b']), '{"outputs":[2.0]}');
  });

  it('writes non-finite floats as bare tokens that parseJsonBody reads back', () => {
    const text = encodePredictResponse({ y: f32([3], [Number.NaN, Infinity, -Infinity]) }, 'row', ['y']);
    assert.equal(text, '{"predictions":[NaN,Infinity,-Infinity]}');
    const back = parseJsonBody(text, { maxDepth: 8 }) as { predictions: number[] };
    assert.ok(Number.isNaN(back.predictions[0]));
  });

  it('writes float32 shortest, float64 exact, ints, bools and scalars', () => {
    const outputs: Record<string, Tensor> = {
      f: f32([], [0.3]),
      d: { dtype: 'float64', shape: [1], data: new Float64Array([0.1 + 0.2]) },
      i: { dtype: 'uint8', shape: [2], data: new Uint8Array([0, 255]) },
      b: { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) },
    };
    assert.equal(
      encodePredictResponse(outputs, 'columnar', ['f', 'd', 'i', 'b']),
      '{"outputs":{"f":0.3,"d":[0.30000000000000004],"i":[0,255],"b":[true,false]}}',
    );
  });

  it('writes strings as text, and as b64 when the output name ends in _bytes', () => {
    const data = [utf8('a"b'), new Uint8Array([0, 255])];
    const outputs: Record<string, Tensor> = {
      text: { dtype: 'string', shape: [2], data },
      image_bytes: { dtype: 'string', shape: [2], data },
    };
    assert.equal(
      encodePredictResponse(outputs, 'row', ['text', 'image_bytes']),
      '{"predictions":[{"text":"a\\"b","image_bytes":{"b64":"YSJi"}},{"text":"\\u0000�","image_bytes":{"b64":"AP8="}}]}',
    );
  });

  it('writes empty dims as empty lists', () => {
    assert.equal(encodePredictResponse({ y: f32([2, 0], []) }, 'row', ['y']), '{"predictions":[[],[]]}');
  });

  it('rejects row format for outputs that do not share a batch size', () => {
    const outputs = { a: f32([2], [1, 2]), b: f32([3], [1, 2, 3]) };
    assert.throws(
      () => encodePredictResponse(outputs, 'row', ['a', 'b']),
      (e: unknown) =>
        e instanceof ServingError && e.code === 'INVALID_ARGUMENT' && /'b' has 3/.test(e.message),
    );
  });

  it('answers INTERNAL when a listed output is missing', () => {
    assert.throws(
      () => encodePredictResponse({}, 'row', ['y']),
      (e: unknown) => e instanceof ServingError && e.code === 'INTERNAL',
    );
  });
});
