import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { Tensor } from '../../../src/core/tensor.js';
import {
  decodeInferBinaryRequest,
  encodeInferBinaryResponse,
  wantsBinaryOutput,
} from '../../../src/main/codecs/kserve-binary.js';
import { kserveDatatype } from '../../../src/main/codecs/kserve-dtype.js';
import { decodeInferRequest } from '../../../src/main/codecs/kserve-json.js';
import { SAMPLE_TENSORS } from './kserve-samples.js';

const opts = { maxDepth: 32, maxElements: 1000 };

/** Builds a binary-extension request body: `prefix` junk bytes first to shift alignment. */
function requestBody(
  header: object,
  chunks: Uint8Array[],
  prefix = 0,
): { body: Uint8Array; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  const total = prefix + json.length + chunks.reduce((n, c) => n + c.length, 0);
  const buf = new Uint8Array(total);
  buf.set(json, prefix);
  let pos = prefix + json.length;
  for (const c of chunks) {
    buf.set(c, pos);
    pos += c.length;
  }
  return { body: buf.subarray(prefix), headerLength: json.length };
}

function fails(fn: () => unknown, pattern: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ServingError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message),
  );
}

describe('kserve binary extension', () => {
  it('round-trips every datatype: response body decodes back as a request', () => {
    for (const [datatype, tensor] of Object.entries(SAMPLE_TENSORS)) {
      const { body, headerLength } = encodeInferBinaryResponse(
        { modelName: 'm', modelVersion: '1', outputs: [{ name: 'o', tensor }] },
        () => true,
      );
      const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
      const out = header.outputs[0];
      assert.equal(out.datatype, datatype);
      assert.equal(out.data, undefined);
      assert.equal(out.parameters.binary_data_size, body.length - headerLength);
      // The response's outputs, sent back as a request's inputs with the same bytes.
      const again = requestBody({ inputs: header.outputs }, [body.subarray(headerLength)], 3);
      const req = decodeInferBinaryRequest(again.body, String(again.headerLength), opts);
      assert.deepEqual(
        { ...req.inputs['o'], data: [...(req.inputs['o'].data as Iterable<unknown>)] },
        {
          ...tensor,
          data: [...(tensor.data as Iterable<unknown>)],
        },
      );
      assert.equal(req.inputs['o'].dtype, tensor.dtype, kserveDatatype(tensor.dtype));
    }
  });

  it('mixes JSON and binary inputs and returns aligned inputs as views', () => {
    const floats = new Float32Array([1.5, -2, 3, 4]);
    const header = {
      inputs: [
        { name: 'a', shape: [1], datatype: 'INT32', data: [7] },
        { name: 'f', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } },
      ],
    };
    // Shift the body so the binary data starts on a 4-byte boundary of the underlying buffer.
    const prefix = (4 - (JSON.stringify(header).length % 4)) % 4;
    const { body, headerLength } = requestBody(header, [new Uint8Array(floats.buffer)], prefix);
    assert.equal((body.byteOffset + headerLength) % 4, 0);
    const req = decodeInferBinaryRequest(body, headerLength, opts);
    assert.deepEqual(req.inputs['a'].data, new Int32Array([7]));
    const f = req.inputs['f'].data as Float32Array;
    assert.deepEqual(f, floats);
    assert.equal(f.buffer, body.buffer);
  });

  it('copies unaligned numeric inputs once', () => {
    const floats = new Float64Array([0.1, 0.2]);
    const header = {
      inputs: [{ name: 'f', shape: [2], datatype: 'FP64', parameters: { binary_data_size: 16 } }],
    };
    // Shift the body so the binary data starts 1 byte past an 8-byte boundary.
    const prefix = ((8 - (JSON.stringify(header).length % 8)) % 8) + 1;
    const { body, headerLength } = requestBody(header, [new Uint8Array(floats.buffer)], prefix);
    assert.notEqual((body.byteOffset + headerLength) % 8, 0);
    const f = decodeInferBinaryRequest(body, headerLength, opts).inputs['f'].data as Float64Array;
    assert.deepEqual(f, floats);
    assert.notEqual(f.buffer, body.buffer);
  });

  it('validates Inference-Header-Content-Length against the body', () => {
    const { body } = requestBody({ inputs: [] }, []);
    for (const bad of [undefined, '-1', 'abc', '1.5', String(body.length + 1), -3]) {
      fails(
        () => decodeInferBinaryRequest(body, bad, opts),
        /Inference-Header-Content-Length must be an integer in \[0, \d+\]/,
      );
    }
    fails(() => decodeInferBinaryRequest(body, 0, opts), /^JSON Parse error/);
  });

  it('rejects sizes that disagree with the shape or the body', () => {
    const mk = (size: number, bytes: number, datatype = 'FP32', shape = [2]) =>
      requestBody({ inputs: [{ name: 'x', shape, datatype, parameters: { binary_data_size: size } }] }, [
        new Uint8Array(bytes),
      ]);
    let r = mk(4, 4);
    fails(
      () => decodeInferBinaryRequest(r.body, r.headerLength, opts),
      /Input 'x': binary_data_size 4 does not match shape \[2\]/,
    );
    r = mk(16, 8);
    fails(
      () => decodeInferBinaryRequest(r.body, r.headerLength, opts),
      /Input 'x': binary_data_size 16 runs past the end/,
    );
    r = mk(8, 12);
    fails(
      () => decodeInferBinaryRequest(r.body, r.headerLength, opts),
      /4 bytes of binary data that no input claims/,
    );
    r = mk(6, 6, 'BYTES', [2]);
    fails(
      () => decodeInferBinaryRequest(r.body, r.headerLength, opts),
      /Input 'x': the BYTES data ends inside element 1 of 2/,
    );
  });

  it('normalizes bool bytes to 0/1', () => {
    const r = requestBody(
      { inputs: [{ name: 'b', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } }] },
      [new Uint8Array([0, 2, 1])],
    );
    assert.deepEqual(
      decodeInferBinaryRequest(r.body, r.headerLength, opts).inputs['b'].data,
      new Uint8Array([0, 1, 1]),
    );
  });

  it('encodes only the requested outputs as binary', () => {
    const a: Tensor = { dtype: 'int32', shape: [1], data: new Int32Array([5]) };
    const b: Tensor = { dtype: 'float32', shape: [1], data: new Float32Array([0.25]) };
    const req = decodeInferRequest({
      inputs: [],
      outputs: [{ name: 'a', parameters: { binary_data: true } }, { name: 'b' }],
    });
    const { body, headerLength } = encodeInferBinaryResponse(
      {
        modelName: 'm',
        modelVersion: '1',
        outputs: [
          { name: 'a', tensor: a },
          { name: 'b', tensor: b },
        ],
      },
      (name) => wantsBinaryOutput(req, name),
    );
    const header = JSON.parse(body.subarray(0, headerLength).toString());
    assert.deepEqual(header.outputs[0], {
      name: 'a',
      datatype: 'INT32',
      shape: [1],
      parameters: { binary_data_size: 4 },
    });
    assert.deepEqual(header.outputs[1], { name: 'b', datatype: 'FP32', shape: [1], data: [0.25] });
    assert.equal(body.readInt32LE(headerLength), 5);
    assert.equal(body.length, headerLength + 4);
  });

  it('applies binary_data_output unless an output says otherwise', () => {
    const req = decodeInferRequest({
      inputs: [],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'a', parameters: { binary_data: false } }, { name: 'b' }],
    });
    assert.equal(wantsBinaryOutput(req, 'a'), false);
    assert.equal(wantsBinaryOutput(req, 'b'), true);
    assert.equal(wantsBinaryOutput(req, 'c'), true);
    assert.equal(wantsBinaryOutput(decodeInferRequest({ inputs: [] }), 'a'), false);
  });
});
