import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { decodeBytesElements, encodeBytesElements } from '../../../src/main/codecs/bytes-framing.js';
import { dtypeOfKServe, kserveDatatype } from '../../../src/main/codecs/kserve-dtype.js';
import {
  decodeInferInput,
  decodeInferInputs,
  encodeInferOutputs,
} from '../../../src/main/codecs/kserve-grpc.js';

const OPTS = { maxElements: 1000 };

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.match(err.message, pattern);
    return true;
  });
}

const CASES = [
  { datatype: 'BOOL', dtype: 'bool', field: 'bool_contents', values: [true, false], expected: [1, 0] },
  { datatype: 'INT8', dtype: 'int8', field: 'int_contents', values: [-128, 127], expected: [-128, 127] },
  { datatype: 'INT16', dtype: 'int16', field: 'int_contents', values: [-32768, 5], expected: [-32768, 5] },
  {
    datatype: 'INT32',
    dtype: 'int32',
    field: 'int_contents',
    values: [-1, 2147483647],
    expected: [-1, 2147483647],
  },
  {
    datatype: 'INT64',
    dtype: 'int64',
    field: 'int64_contents',
    values: ['-5', '9007199254740993'],
    expected: [-5n, 9007199254740993n],
  },
  { datatype: 'UINT8', dtype: 'uint8', field: 'uint_contents', values: [0, 255], expected: [0, 255] },
  { datatype: 'UINT16', dtype: 'uint16', field: 'uint_contents', values: [1, 65535], expected: [1, 65535] },
  {
    datatype: 'UINT32',
    dtype: 'uint32',
    field: 'uint_contents',
    values: [1, 4294967295],
    expected: [1, 4294967295],
  },
  {
    datatype: 'UINT64',
    dtype: 'uint64',
    field: 'uint64_contents',
    values: ['18446744073709551615', '0'],
    expected: [18446744073709551615n, 0n],
  },
  { datatype: 'FP32', dtype: 'float32', field: 'fp32_contents', values: [0.5, -1], expected: [0.5, -1] },
  {
    datatype: 'FP64',
    dtype: 'float64',
    field: 'fp64_contents',
    values: [0.1, 1e300],
    expected: [0.1, 1e300],
  },
] as const;

describe('KServe gRPC codec: datatypes', () => {
  it('maps every datatype to a dtype and back', () => {
    for (const c of CASES) {
      assert.equal(dtypeOfKServe(c.datatype), c.dtype);
      assert.equal(kserveDatatype(c.dtype), c.datatype);
    }
    assert.equal(dtypeOfKServe('FP16'), 'float16');
    assert.equal(dtypeOfKServe('BYTES'), 'string');
    assert.equal(dtypeOfKServe('BF16'), undefined);
  });
});

describe('KServe gRPC codec: typed contents', () => {
  for (const c of CASES) {
    it(`decodes ${c.datatype} from ${c.field} and encodes it back`, () => {
      const t = decodeInferInput(
        { name: 'x', datatype: c.datatype, shape: ['1', '2'], contents: { [c.field]: c.values } },
        undefined,
        OPTS,
      );
      assert.equal(t.dtype, c.dtype);
      assert.deepEqual(t.shape, [1, 2]);
      assert.deepEqual(Array.from(t.data as ArrayLike<unknown>), c.expected);
      const enc = encodeInferOutputs({ y: t }, ['y'], true);
      assert.deepEqual(enc.raw_output_contents, []);
      assert.deepEqual(enc.outputs[0].shape, ['1', '2']);
      assert.equal(enc.outputs[0].datatype, c.datatype);
      const back = decodeInferInput({ ...enc.outputs[0], name: 'y' }, undefined, OPTS);
      assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), c.expected);
    });
  }

  it('decodes BYTES from bytes_contents', () => {
    const els = [Buffer.from('hi'), Buffer.alloc(0)];
    const t = decodeInferInput(
      { name: 's', datatype: 'BYTES', shape: ['2'], contents: { bytes_contents: els } },
      undefined,
      OPTS,
    );
    assert.deepEqual(t.data, els);
  });

  it('requires exactly one value per element (no single-value fill)', () => {
    expectInvalid(
      () =>
        decodeInferInput(
          { name: 'x', datatype: 'FP32', shape: ['3'], contents: { fp32_contents: [1] } },
          undefined,
          OPTS,
        ),
      /Input 'x' has 1 values in fp32_contents, expected 3/,
    );
    expectInvalid(
      () => decodeInferInput({ name: 'x', datatype: 'FP32', shape: ['2'] }, undefined, OPTS),
      /Input 'x' has 0 values .*no contents/,
    );
  });

  it('rejects FP16 as contents, unknown datatypes, bad shapes and out-of-range values', () => {
    expectInvalid(
      () => decodeInferInput({ name: 'h', datatype: 'FP16', shape: ['1'], contents: {} }, undefined, OPTS),
      /Input 'h': FP16 data must be sent in raw_input_contents/,
    );
    expectInvalid(
      () => decodeInferInput({ name: 'b', datatype: 'BF16', shape: ['1'] }, undefined, OPTS),
      /Input 'b' has an unsupported datatype: BF16/,
    );
    expectInvalid(
      () => decodeInferInput({ name: 'b', shape: ['1'] }, undefined, OPTS),
      /unsupported datatype/,
    );
    expectInvalid(
      () => decodeInferInput({ name: 'n', datatype: 'FP32', shape: ['-1'] }, undefined, OPTS),
      /Input 'n' has an invalid dimension 0: -1/,
    );
    expectInvalid(
      () => decodeInferInput({ name: 'n', datatype: 'FP32', shape: ['2000'] }, undefined, OPTS),
      /more than the limit/,
    );
    expectInvalid(
      () =>
        decodeInferInput(
          { name: 'i', datatype: 'UINT8', shape: ['1'], contents: { uint_contents: [256] } },
          undefined,
          OPTS,
        ),
      /out of range for uint8/,
    );
  });
});

describe('KServe gRPC codec: raw contents', () => {
  it('decodes numeric raw contents (view when aligned) and checks their size', () => {
    const raw = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
    const t = decodeInferInput({ name: 'x', datatype: 'FP32', shape: ['2', '2'] }, raw, OPTS);
    assert.equal((t.data as Float32Array).buffer, raw.buffer);
    assert.deepEqual(Array.from(t.data as Float32Array), [1, 2, 3, 4]);
    expectInvalid(
      () => decodeInferInput({ name: 'x', datatype: 'FP32', shape: ['2', '2'] }, raw.subarray(0, 12), OPTS),
      /Input 'x': raw contents have 12 bytes, expected 16/,
    );
  });

  it('decodes FP16 raw contents as 16-bit patterns', () => {
    const t = decodeInferInput(
      { name: 'h', datatype: 'FP16', shape: ['2'] },
      Buffer.from([0x00, 0x3c, 0x00, 0xc0]),
      OPTS,
    );
    assert.equal(t.dtype, 'float16');
    assert.deepEqual(Array.from(t.data as Uint16Array), [0x3c00, 0xc000]);
  });

  it('round-trips BYTES elements through the 4-byte length prefix', () => {
    const els = [Buffer.from('abc'), Buffer.alloc(0), Buffer.from([0, 1])];
    const raw = encodeBytesElements(els);
    assert.equal(raw.byteLength, 3 * 4 + 5);
    assert.deepEqual(
      decodeBytesElements(raw, 3, 'x').map((e) => Buffer.from(e)),
      els,
    );
    expectInvalid(
      () => decodeBytesElements(raw, 4, "Input 's'"),
      /Input 's': the BYTES data ends inside element 3 of 4/,
    );
    expectInvalid(
      () => decodeBytesElements(raw, 2, "Input 's'"),
      /the BYTES data has 6 bytes beyond the 2 elements of its shape/,
    );
    expectInvalid(
      () => decodeBytesElements(Buffer.from([9, 0, 0, 0, 1]), 1, "Input 's'"),
      /ends inside element 0 of 1/,
    );
  });

  it('requires one raw entry per input and no contents alongside them', () => {
    const a = { name: 'a', datatype: 'INT32', shape: ['1'] };
    const b = { name: 'b', datatype: 'INT32', shape: ['1'] };
    const one = Buffer.from(new Int32Array([7]).buffer);
    const map = decodeInferInputs([a, b], [one, one], OPTS);
    assert.deepEqual(Object.keys(map), ['a', 'b']);
    assert.deepEqual(Array.from(map['b'].data as Int32Array), [7]);
    expectInvalid(
      () => decodeInferInputs([a, b], [one], OPTS),
      /Expected 2 raw_input_contents \(one per input\), got 1/,
    );
    expectInvalid(
      () => decodeInferInputs([{ ...a, contents: { int_contents: [1] } }], [one], OPTS),
      /Input 'a': contents must not be given/,
    );
    expectInvalid(() => decodeInferInputs([a, a], [one, one], OPTS), /Input 'a' is given more than once/);
    expectInvalid(
      () => decodeInferInputs([{ datatype: 'INT32', shape: ['1'] }], [one], OPTS),
      /Input 0 has no name/,
    );
  });

  it('encodes outputs as raw contents by default, FP16 and BYTES included', () => {
    const f = new Float32Array([1.5]);
    const enc = encodeInferOutputs(
      {
        y: { dtype: 'float32', shape: [1], data: f },
        h: { dtype: 'float16', shape: [1], data: new Uint16Array([0x3c00]) },
        s: { dtype: 'string', shape: [1], data: [Buffer.from('ok')] },
      },
      ['s', 'y', 'h'],
      false,
    );
    assert.deepEqual(
      enc.outputs.map((o) => [o.name, o.datatype, o.shape, o.contents]),
      [
        ['s', 'BYTES', ['1'], undefined],
        ['y', 'FP32', ['1'], undefined],
        ['h', 'FP16', ['1'], undefined],
      ],
    );
    assert.deepEqual(Buffer.from(enc.raw_output_contents[0]), Buffer.from([2, 0, 0, 0, 0x6f, 0x6b]));
    assert.equal(enc.raw_output_contents[1].buffer, f.buffer);
    assert.deepEqual(Buffer.from(enc.raw_output_contents[2]), Buffer.from([0x00, 0x3c]));
  });

  it('falls back to raw for every output when typed contents cannot carry one (FP16)', () => {
    const enc = encodeInferOutputs(
      {
        y: { dtype: 'float32', shape: [1], data: new Float32Array([1]) },
        h: { dtype: 'float16', shape: [1], data: new Uint16Array([0x3c00]) },
      },
      ['y', 'h'],
      true,
    );
    assert.equal(enc.raw_output_contents.length, 2);
    assert.ok(enc.outputs.every((o) => o.contents === undefined));
  });
});
