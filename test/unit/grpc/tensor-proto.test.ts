import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DType } from '../../../src/core/dtype.js';
import { ServingError } from '../../../src/core/errors.js';
import type { Tensor } from '../../../src/core/tensor.js';
import {
  decodeTensorProto,
  encodeTensorProto,
  type TensorProtoObject,
} from '../../../src/main/codecs/tensor-proto.js';
import { dtypeOfTf, tfDataTypeName } from '../../../src/main/codecs/tf-dtype.js';

const OPTS = { maxElements: 1000 };

function shape(...dims: (number | string)[]) {
  return { dim: dims.map((d) => ({ size: String(d) })) };
}

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.match(err.message, pattern);
    return true;
  });
}

/** One case per dtype: the DT name, the typed field, values, and the expected element array. */
const CASES: {
  dtype: DType;
  dt: string;
  field: keyof TensorProtoObject;
  values: unknown[];
  expected: unknown[];
}[] = [
  {
    dtype: 'float32',
    dt: 'DT_FLOAT',
    field: 'float_val',
    values: [1.5, -2, 0.25],
    expected: [1.5, -2, 0.25],
  },
  {
    dtype: 'float64',
    dt: 'DT_DOUBLE',
    field: 'double_val',
    values: [1e300, -1, 0.1],
    expected: [1e300, -1, 0.1],
  },
  {
    dtype: 'int32',
    dt: 'DT_INT32',
    field: 'int_val',
    values: [-2147483648, 0, 7],
    expected: [-2147483648, 0, 7],
  },
  {
    dtype: 'int16',
    dt: 'DT_INT16',
    field: 'int_val',
    values: [-32768, 1, 32767],
    expected: [-32768, 1, 32767],
  },
  { dtype: 'int8', dt: 'DT_INT8', field: 'int_val', values: [-128, 0, 127], expected: [-128, 0, 127] },
  { dtype: 'uint8', dt: 'DT_UINT8', field: 'int_val', values: [0, 128, 255], expected: [0, 128, 255] },
  { dtype: 'uint16', dt: 'DT_UINT16', field: 'int_val', values: [0, 1, 65535], expected: [0, 1, 65535] },
  {
    dtype: 'uint32',
    dt: 'DT_UINT32',
    field: 'uint32_val',
    values: [0, 1, 4294967295],
    expected: [0, 1, 4294967295],
  },
  {
    dtype: 'int64',
    dt: 'DT_INT64',
    field: 'int64_val',
    values: ['-9223372036854775808', '5', '9223372036854775807'],
    expected: [-9223372036854775808n, 5n, 9223372036854775807n],
  },
  {
    dtype: 'uint64',
    dt: 'DT_UINT64',
    field: 'uint64_val',
    values: ['0', '18446744073709551615', '3'],
    expected: [0n, 18446744073709551615n, 3n],
  },
  { dtype: 'bool', dt: 'DT_BOOL', field: 'bool_val', values: [true, false, true], expected: [1, 0, 1] },
  // 0x3c00 = 1.0, 0xc000 = -2.0 as IEEE half bits.
  {
    dtype: 'float16',
    dt: 'DT_HALF',
    field: 'half_val',
    values: [0x3c00, 0xc000, 0],
    expected: [0x3c00, 0xc000, 0],
  },
];

describe('TensorProto codec: dtype table', () => {
  it('maps every dtype to its DT_* name and back, by name and by enum number', () => {
    for (const c of CASES) {
      assert.equal(tfDataTypeName(c.dtype), c.dt);
      assert.equal(dtypeOfTf(c.dt), c.dtype);
    }
    assert.equal(tfDataTypeName('string'), 'DT_STRING');
    assert.equal(dtypeOfTf(1), 'float32');
    assert.equal(dtypeOfTf(23), 'uint64');
    assert.equal(dtypeOfTf('DT_BFLOAT16'), undefined);
  });
});

describe('TensorProto codec: decoding typed values', () => {
  for (const c of CASES) {
    it(`decodes ${c.dt} from ${String(c.field)} with one value per element`, () => {
      const t = decodeTensorProto('x', { dtype: c.dt, tensor_shape: shape(3), [c.field]: c.values }, OPTS);
      assert.equal(t.dtype, c.dtype);
      assert.deepEqual(t.shape, [3]);
      assert.deepEqual(Array.from(t.data as ArrayLike<unknown>), c.expected);
    });
    it(`fills a [2, 3] ${c.dt} tensor from a single value`, () => {
      const t = decodeTensorProto(
        'x',
        { dtype: c.dt, tensor_shape: shape(2, 3), [c.field]: [c.values[1]] },
        OPTS,
      );
      assert.deepEqual(t.shape, [2, 3]);
      assert.deepEqual(Array.from(t.data as ArrayLike<unknown>), new Array(6).fill(c.expected[1]));
    });
  }

  it('accepts the enum as a number (unknown-enum passthrough)', () => {
    const t = decodeTensorProto('x', { dtype: 1, tensor_shape: shape(1), float_val: [3] }, OPTS);
    assert.equal(t.dtype, 'float32');
  });

  it('decodes strings from string_val, filling from one value', () => {
    const a = Buffer.from('ab');
    const b = Buffer.from([0xff, 0]);
    const t = decodeTensorProto(
      's',
      { dtype: 'DT_STRING', tensor_shape: shape(2), string_val: [a, b] },
      OPTS,
    );
    assert.equal(t.dtype, 'string');
    assert.deepEqual(t.data, [a, b]);
    const filled = decodeTensorProto(
      's',
      { dtype: 'DT_STRING', tensor_shape: shape(3), string_val: [a] },
      OPTS,
    );
    assert.deepEqual(filled.data, [a, a, a]);
  });

  it('treats a missing shape as a scalar', () => {
    const t = decodeTensorProto('x', { dtype: 'DT_FLOAT', float_val: [2.5] }, OPTS);
    assert.deepEqual(t.shape, []);
    assert.deepEqual(Array.from(t.data as Float32Array), [2.5]);
  });

  it('decodes an empty tensor from no values', () => {
    const t = decodeTensorProto('x', { dtype: 'DT_FLOAT', tensor_shape: shape(0, 4) }, OPTS);
    assert.deepEqual(t.shape, [0, 4]);
    assert.equal((t.data as Float32Array).length, 0);
  });
});

describe('TensorProto codec: decoding tensor_content', () => {
  for (const c of CASES) {
    it(`decodes ${c.dt} from raw little-endian bytes`, () => {
      const source = encodeTensorProto(
        decodeTensorProto('x', { dtype: c.dt, tensor_shape: shape(3), [c.field]: c.values }, OPTS),
      );
      const bytes = Buffer.from(source.tensor_content as Uint8Array);
      const t = decodeTensorProto('x', { dtype: c.dt, tensor_shape: shape(3), tensor_content: bytes }, OPTS);
      assert.deepEqual(Array.from(t.data as ArrayLike<unknown>), c.expected);
    });
  }

  it('returns a view over aligned bytes and a copy of unaligned ones', () => {
    const backing = Buffer.alloc(40);
    const f = new Float32Array([1, 2, 3, 4]);
    Buffer.from(f.buffer).copy(backing, 0);
    Buffer.from(f.buffer).copy(backing, 17);
    const aligned = backing.subarray(0, 16);
    const unaligned = backing.subarray(17, 33);
    const a = decodeTensorProto(
      'x',
      { dtype: 'DT_FLOAT', tensor_shape: shape(4), tensor_content: aligned },
      OPTS,
    );
    const u = decodeTensorProto(
      'x',
      { dtype: 'DT_FLOAT', tensor_shape: shape(4), tensor_content: unaligned },
      OPTS,
    );
    assert.equal((a.data as Float32Array).buffer, backing.buffer);
    assert.notEqual((u.data as Float32Array).buffer, backing.buffer);
    assert.deepEqual(Array.from(a.data as Float32Array), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(u.data as Float32Array), [1, 2, 3, 4]);
  });

  it('prefers tensor_content over typed values', () => {
    const content = Buffer.from(new Float32Array([7, 8]).buffer);
    const t = decodeTensorProto(
      'x',
      { dtype: 'DT_FLOAT', tensor_shape: shape(2), tensor_content: content, float_val: [1] },
      OPTS,
    );
    assert.deepEqual(Array.from(t.data as Float32Array), [7, 8]);
  });
});

describe('TensorProto codec: errors', () => {
  it('rejects unknown and unsupported dtypes, naming the input', () => {
    expectInvalid(
      () => decodeTensorProto('img', { dtype: 'DT_BFLOAT16', tensor_shape: shape(1) }, OPTS),
      /Input 'img'.*DT_BFLOAT16/,
    );
    expectInvalid(
      () => decodeTensorProto('img', { dtype: 'DT_INVALID' }, OPTS),
      /Input 'img'.*unsupported dtype/,
    );
    expectInvalid(() => decodeTensorProto('img', { dtype: 99 }, OPTS), /unsupported dtype: 99/);
    expectInvalid(() => decodeTensorProto('img', {}, OPTS), /unsupported dtype: DT_INVALID/);
  });

  it('rejects negative, fractional and overflowing dims, and an unknown rank', () => {
    const base = { dtype: 'DT_FLOAT', float_val: [1] };
    expectInvalid(
      () => decodeTensorProto('x', { ...base, tensor_shape: shape(2, -1) }, OPTS),
      /Input 'x'.*dimension 1: -1/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { ...base, tensor_shape: shape('9007199254740993') }, OPTS),
      /dimension 0/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { ...base, tensor_shape: shape(1001) }, OPTS),
      /1001 elements, more than the limit of 1000/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { ...base, tensor_shape: shape(100, 100) }, OPTS),
      /10000 elements/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { ...base, tensor_shape: { unknown_rank: true } }, OPTS),
      /unknown rank/,
    );
  });

  it('rejects tensor_content whose length is not elements × dtype size', () => {
    expectInvalid(
      () =>
        decodeTensorProto(
          'x',
          { dtype: 'DT_FLOAT', tensor_shape: shape(2, 2), tensor_content: Buffer.alloc(15) },
          OPTS,
        ),
      /Input 'x': tensor_content has 15 bytes, expected 16 \(4 elements of DT_FLOAT\)/,
    );
    expectInvalid(
      () =>
        decodeTensorProto(
          'x',
          { dtype: 'DT_INT64', tensor_shape: shape(2), tensor_content: Buffer.alloc(8) },
          OPTS,
        ),
      /expected 16/,
    );
  });

  it('rejects typed lists that neither fill nor match the element count', () => {
    expectInvalid(
      () => decodeTensorProto('x', { dtype: 'DT_FLOAT', tensor_shape: shape(3), float_val: [1, 2] }, OPTS),
      /Input 'x' has 2 values in float_val, expected 1 or 3/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { dtype: 'DT_FLOAT', tensor_shape: shape(3) }, OPTS),
      /0 values in float_val/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { dtype: 'DT_FLOAT', tensor_shape: shape(2), int_val: [1, 2] }, OPTS),
      /0 values in float_val/,
    );
    expectInvalid(
      () =>
        decodeTensorProto(
          's',
          { dtype: 'DT_STRING', tensor_shape: shape(3), string_val: [Buffer.from('a'), Buffer.from('b')] },
          OPTS,
        ),
      /Input 's' has 2 values in string_val, expected 1 or 3/,
    );
  });

  it('rejects integer values out of the dtype range', () => {
    expectInvalid(
      () => decodeTensorProto('x', { dtype: 'DT_INT8', tensor_shape: shape(1), int_val: [128] }, OPTS),
      /out of range for int8/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { dtype: 'DT_UINT8', tensor_shape: shape(1), int_val: [-1] }, OPTS),
      /out of range for uint8/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { dtype: 'DT_UINT16', tensor_shape: shape(2), int_val: [1, 65536] }, OPTS),
      /out of range for uint16/,
    );
    expectInvalid(
      () =>
        decodeTensorProto(
          'x',
          { dtype: 'DT_INT64', tensor_shape: shape(1), int64_val: ['9223372036854775808'] },
          OPTS,
        ),
      /out of range for int64/,
    );
    expectInvalid(
      () => decodeTensorProto('x', { dtype: 'DT_UINT64', tensor_shape: shape(1), uint64_val: ['-1'] }, OPTS),
      /out of range for uint64/,
    );
  });
});

describe('TensorProto codec: encoding', () => {
  it('writes tensor_content as a view over the tensor data, with int64 dims as strings', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const msg = encodeTensorProto({ dtype: 'float32', shape: [2, 3], data });
    assert.equal(msg.dtype, 'DT_FLOAT');
    assert.deepEqual(msg.tensor_shape, { dim: [{ size: '2' }, { size: '3' }] });
    const content = msg.tensor_content as Buffer;
    assert.equal(content.buffer, data.buffer);
    assert.equal(content.byteLength, 24);
    assert.equal(msg.float_val, undefined);
  });

  it('writes strings as string_val', () => {
    const data = [Buffer.from('a'), Buffer.from('bc')];
    const msg = encodeTensorProto({ dtype: 'string', shape: [2], data });
    assert.equal(msg.dtype, 'DT_STRING');
    assert.deepEqual(msg.string_val, data);
    assert.equal(msg.tensor_content, undefined);
  });

  for (const c of CASES) {
    it(`round-trips ${c.dt} through typed values`, () => {
      const t = decodeTensorProto('x', { dtype: c.dt, tensor_shape: shape(3), [c.field]: c.values }, OPTS);
      const msg = encodeTensorProto(t, { typedValues: true });
      assert.equal(msg.tensor_content, undefined);
      assert.equal(msg.dtype, c.dt);
      const back: Tensor = decodeTensorProto('x', msg, OPTS);
      assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), c.expected);
    });
  }

  it('writes 64-bit integers as decimal strings and bools as booleans', () => {
    const i64 = encodeTensorProto(
      { dtype: 'int64', shape: [2], data: new BigInt64Array([-1n, 2n]) },
      { typedValues: true },
    );
    assert.deepEqual(i64.int64_val, ['-1', '2']);
    const b = encodeTensorProto(
      { dtype: 'bool', shape: [2], data: new Uint8Array([0, 1]) },
      { typedValues: true },
    );
    assert.deepEqual(b.bool_val, [false, true]);
  });
});
