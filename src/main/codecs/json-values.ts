import { type DType, type NumericTypedArray, typedArrayCtor } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import { JsonNumber } from './json-number.js';

/**
 * JSON values → tensor elements, shared by the TF Serving and KServe JSON decoders.
 * Elements are written straight into the destination typed array; the dtype switch sits
 * outside the per-element loops.
 *
 * Rules (TF Serving's): float32/float64 take any number (finite values beyond float32's
 * range are rejected); integer dtypes take integral numbers within range. Values may be
 * plain numbers or JsonNumber (parseJsonBody with `exactNumbers`): a JsonNumber written with
 * a fraction or exponent (`1.0`, `1e3`) is rejected for integer dtypes, and int64/uint64
 * read long integers exactly from the source text via BigInt. From plain numbers (no
 * exactNumbers) `1.0` cannot be told from `1` and integers beyond 2^53 have already been
 * rounded. int64/uint64 values outside their range are rejected.
 * bool takes true/false; string takes a string (stored as UTF-8) or, where allowed,
 * `{"b64": "..."}`. float16 is not accepted from JSON (UNIMPLEMENTED).
 */
export type TensorStorage = NumericTypedArray | Uint8Array[];

export interface ValueOptions {
  /** Name used in error messages. */
  readonly tensorName: string;
  /** Whether `{"b64": "..."}` objects are accepted for string tensors (TF Serving: yes). */
  readonly allowB64: boolean;
}

const F32_MAX = 3.4028234663852886e38;
const INT_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9_-]*={0,2}$/;
const encoder = new TextEncoder();

/** Allocates storage for `count` elements of `dtype`. */
export function allocateStorage(dtype: DType, count: number): TensorStorage {
  if (dtype === 'string') return new Array<Uint8Array>(count);
  return new (typedArrayCtor(dtype))(count);
}

/** Throws UNIMPLEMENTED for dtypes that JSON cannot carry. */
export function assertJsonDType(dtype: DType, tensorName: string): void {
  if (dtype === 'float16') {
    throw new ServingError(
      'UNIMPLEMENTED',
      `Input '${tensorName}' has dtype float16 (DT_HALF), which the JSON API does not support`,
    );
  }
}

/**
 * Converts `src[0..n)` and stores them at `out[offset..offset+n)`. Throws INVALID_ARGUMENT
 * naming the tensor when a value has the wrong type or is out of range; an array where a
 * value is expected throws `Encountered list at unexpected size`.
 */
export function fillValues(
  src: readonly unknown[],
  out: TensorStorage,
  offset: number,
  dtype: DType,
  opts: ValueOptions,
): void {
  const n = src.length;
  switch (dtype) {
    case 'float32':
    case 'float64': {
      const o = out as Float32Array | Float64Array;
      const f32 = dtype === 'float32';
      for (let i = 0; i < n; i++) {
        const s = src[i];
        const v = s instanceof JsonNumber ? s.value : s;
        if (typeof v !== 'number') throw badValue(v, dtype, opts);
        if (f32 && (v > F32_MAX || v < -F32_MAX) && v - v === 0 && !Number.isFinite(Math.fround(v))) {
          throw outOfRange(v, dtype, opts);
        }
        o[offset + i] = v;
      }
      return;
    }
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32': {
      const o = out as Int32Array;
      const [min, max] = INT_RANGES[dtype]!;
      for (let i = 0; i < n; i++) {
        const s = src[i];
        // A JsonNumber here is `1.0`-like (rejected) or over 15 digits (out of range).
        const v = s instanceof JsonNumber && s.integral ? s.value : s;
        if (typeof v !== 'number' || !Number.isInteger(v)) throw badValue(v, dtype, opts);
        if (v < min || v > max) throw outOfRange(s as number | JsonNumber, dtype, opts);
        o[offset + i] = v;
      }
      return;
    }
    case 'int64':
    case 'uint64': {
      const o = out as BigInt64Array | BigUint64Array;
      const min = dtype === 'int64' ? INT64_MIN : 0n;
      const max = dtype === 'int64' ? INT64_MAX : UINT64_MAX;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        let b: bigint;
        if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
        else if (v instanceof JsonNumber && v.integral) b = BigInt(v.source);
        else throw badValue(v, dtype, opts);
        if (b < min || b > max) throw outOfRange(v, dtype, opts);
        o[offset + i] = b;
      }
      return;
    }
    case 'bool': {
      const o = out as Uint8Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v === true) o[offset + i] = 1;
        else if (v === false) o[offset + i] = 0;
        else throw badValue(v, dtype, opts);
      }
      return;
    }
    case 'string': {
      const o = out as Uint8Array[];
      for (let i = 0; i < n; i++) o[offset + i] = stringValue(src[i], opts);
      return;
    }
    case 'float16':
      assertJsonDType(dtype, opts.tensorName);
  }
}

function stringValue(v: unknown, opts: ValueOptions): Uint8Array {
  if (typeof v === 'string') return encoder.encode(v);
  if (opts.allowB64 && isB64Object(v)) return decodeBase64(v.b64, opts.tensorName);
  throw badValue(v, 'string', opts);
}

/** True for `{"b64": "<string>"}` with exactly that one key. */
export function isB64Object(v: unknown): v is { b64: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  let keys = 0;
  for (const _ in v) keys++;
  return keys === 1 && typeof (v as { b64?: unknown }).b64 === 'string';
}

/** Strict base64 (standard or URL-safe alphabet, optional padding) → a fresh Uint8Array. */
export function decodeBase64(s: string, tensorName: string): Uint8Array {
  if (s.length % 4 === 1 || !(BASE64.test(s) || BASE64_URL.test(s))) {
    throw new ServingError(
      'INVALID_ARGUMENT',
      `Input '${tensorName}': unable to base64 decode the 'b64' value`,
    );
  }
  // Copy out of Buffer's shared pool so the tensor owns a standalone ArrayBuffer.
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function badValue(v: unknown, dtype: DType, opts: ValueOptions): ServingError {
  if (Array.isArray(v)) return raggedError(opts.tensorName);
  const what = describe(v);
  let expected: string;
  if (dtype === 'float32' || dtype === 'float64') expected = 'a number';
  else if (dtype === 'bool') expected = 'true or false';
  else if (dtype === 'string') expected = opts.allowB64 ? 'a string or {"b64": "..."}' : 'a string';
  else expected = 'an integer';
  return new ServingError(
    'INVALID_ARGUMENT',
    `Input '${opts.tensorName}' of dtype ${dtype}: expected ${expected}, got ${what}`,
  );
}

function outOfRange(v: number | JsonNumber, dtype: DType, opts: ValueOptions): ServingError {
  return new ServingError(
    'INVALID_ARGUMENT',
    `Input '${opts.tensorName}' of dtype ${dtype}: value ${v} is out of range`,
  );
}

/** TF Serving's error for ragged lists, naming the tensor. */
export function raggedError(tensorName: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', `Encountered list at unexpected size (input '${tensorName}')`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number' || v instanceof JsonNumber) return String(v);
  if (typeof v === 'string') return v.length > 20 ? 'a string' : JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}
