import type { NumericTypedArray } from '../../core/dtype.js';
import type { Signature } from '../../core/signature.js';
import type { TensorMap } from '../../core/tensor.js';
import type { PredictFormat } from './tfs-predict-request.js';

/**
 * A fast path for the commonest TF Serving REST body: `{"instances": <nested list of
 * numbers>}` (or `"inputs"`, optionally with a `"signature_name"` string) for a model with
 * one numeric input. It reads the raw body bytes once, straight into a Float64Array, with
 * no JSON.parse, no depth pre-scan and no intermediate JS arrays; on the CNN's 16 KB body
 * that is about a quarter of the general path's cost.
 *
 * It is only ever a shortcut: it accepts a strict subset of JSON and of the decoder's rules,
 * and answers `undefined` for anything else (other keys, strings, objects in the list,
 * NaN/Infinity, ragged or empty lists, nesting over the depth limit, numbers it cannot read
 * exactly, any non-ASCII byte), so the caller runs the general path (json-body.ts +
 * tfs-predict-request.ts), which produces the same tensors and every error message. Tensors
 * it returns are identical to the general path's, element for element.
 */
export interface FastPredictBody {
  readonly format: PredictFormat;
  readonly signatureName: string | undefined;
  readonly shape: readonly number[];
  /** Row-major values; exact doubles unless `approximate`. */
  readonly values: Float64Array;
  /**
   * Some value has more than 15 digits, or an exponent beyond 10^-22, and holds an
   * approximation within 2^-50 (relative) of the double JSON.parse would give; usable only where that error
   * provably cannot change the stored element (float32, see decodeFastPredict).
   */
  readonly approximate: boolean;
  /** Every number token is an integer of at most 15 digits, no fraction, no exponent. */
  readonly integral: boolean;
}

const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const LOWER_E = 101;
const UPPER_E = 69;

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];
/** Significant digits a double holds exactly (10^15 < 2^53). */
const EXACT_DIGITS = 15;
/** Extra digits an approximated number may have beyond EXACT_DIGITS. */
const MAX_EXTRA_DIGITS = 7;
/** Relative margin around an approximated value; its error is below 2^-50. */
const APPROX_MARGIN = 2 ** -47;
const F32_MAX = 3.4028234663852886e38;
/** Most list levels the fast path tracks. */
const MAX_LEVELS = 64;

/**
 * Parse state, reset per call (the parser is synchronous and not re-entrant). `values` is
 * scratch for the numbers while their count is unknown; it never escapes.
 */
const state = { values: new Float64Array(4096), approximate: false, integral: true };

/**
 * Reads `bytes` as described on FastPredictBody; `undefined` means "use the general path".
 * `maxDepth` is the body depth limit (the top-level object is depth 1).
 */
export function parseFastPredictBody(bytes: Uint8Array, maxDepth: number): FastPredictBody | undefined {
  // The body must end with '}' (then whitespace): every scan below stops at a byte before
  // the end, so none reads past it (out-of-bounds reads would slow the optimized code).
  let last = bytes.length - 1;
  while (last >= 0 && isWs(bytes[last])) last--;
  if (last < 0 || bytes[last] !== CLOSE_BRACE) return undefined;
  let i = skipWs(bytes, 0);
  if (bytes[i] !== OPEN_BRACE) return undefined;
  let format: PredictFormat | undefined;
  let signatureName: string | undefined;
  let shape: number[] | undefined;
  let count = 0;
  state.approximate = false;
  state.integral = true;
  for (;;) {
    i = skipWs(bytes, i + 1);
    const keyEnd = simpleStringEnd(bytes, i);
    if (keyEnd < 0) return undefined;
    const key = latin1(bytes, i + 1, keyEnd);
    i = skipWs(bytes, keyEnd + 1);
    if (bytes[i] !== COLON) return undefined;
    i = skipWs(bytes, i + 1);
    if (key === 'signature_name') {
      if (signatureName !== undefined) return undefined;
      const end = simpleStringEnd(bytes, i);
      if (end < 0) return undefined;
      signatureName = latin1(bytes, i + 1, end);
      i = end + 1;
    } else if (key === 'instances' || key === 'inputs') {
      if (format !== undefined) return undefined;
      format = key === 'instances' ? 'row' : 'columnar';
      shape = [];
      const end = parseList(bytes, i, maxDepth, shape);
      if (end < 0) return undefined;
      count = 1;
      for (const d of shape) count *= d;
      i = end;
    } else {
      return undefined;
    }
    i = skipWs(bytes, i);
    if (bytes[i] === COMMA) continue;
    if (bytes[i] !== CLOSE_BRACE) return undefined;
    break;
  }
  if (i !== last || format === undefined || shape === undefined) return undefined;
  return {
    format,
    signatureName,
    shape,
    values: state.values.slice(0, count),
    approximate: state.approximate,
    integral: state.integral,
  };
}

/**
 * The decoded inputs for `body` under `signature`, or `undefined` when the fast path does
 * not apply (several inputs, a dtype other than float32/float64/int8..uint32, values the
 * general path would reject or read differently, too many elements).
 */
export function decodeFastPredict(
  body: FastPredictBody,
  signature: Signature,
  maxElements: number,
): TensorMap | undefined {
  if (signature.inputs.length !== 1) return undefined;
  const spec = signature.inputs[0];
  const v = body.values;
  const n = v.length;
  if (n > maxElements) return undefined;
  let data: NumericTypedArray | undefined;
  switch (spec.dtype) {
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const x = v[i];
        const f = Math.fround(x);
        // Beyond float32's range the general path rejects the value (its message, its path).
        if (!Number.isFinite(f)) return undefined;
        // An approximation stands for the exact double only when everything within its
        // error margin rounds to the same float32.
        if (
          body.approximate &&
          (Math.fround(x * (1 + APPROX_MARGIN)) !== f || Math.fround(x * (1 - APPROX_MARGIN)) !== f)
        ) {
          return undefined;
        }
        out[i] = f;
      }
      data = out;
      break;
    }
    case 'float64':
      if (body.approximate) return undefined;
      data = v.slice();
      break;
    case 'int8':
      data = integers(body, Int8Array, -128, 127);
      break;
    case 'int16':
      data = integers(body, Int16Array, -32768, 32767);
      break;
    case 'int32':
      data = integers(body, Int32Array, -2147483648, 2147483647);
      break;
    case 'uint8':
      data = integers(body, Uint8Array, 0, 255);
      break;
    case 'uint16':
      data = integers(body, Uint16Array, 0, 65535);
      break;
    case 'uint32':
      data = integers(body, Uint32Array, 0, 4294967295);
      break;
    default:
      return undefined;
  }
  if (data === undefined) return undefined;
  // Row format stacks the instances along a new batch dim: the list's own shape is the tensor's.
  return { [spec.name]: { dtype: spec.dtype, shape: [...body.shape], data } };
}

type IntCtor = new (
  n: number,
) => Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

function integers(body: FastPredictBody, ctor: IntCtor, min: number, max: number) {
  if (!body.integral) return undefined;
  const v = body.values;
  const out = new ctor(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x < min || x > max) return undefined;
    out[i] = x;
  }
  return out;
}

function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

/** The first non-whitespace index from `i`; the caller knows a non-whitespace byte follows. */
function skipWs(b: Uint8Array, i: number): number {
  while (isWs(b[i])) i++;
  return i;
}

/** Index of the closing quote of a printable-ASCII string without escapes at `i`, else -1. */
function simpleStringEnd(b: Uint8Array, i: number): number {
  if (b[i] !== QUOTE) return -1;
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) return j;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
  }
  return -1;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let j = start; j < end; j++) s += String.fromCharCode(b[j]);
  return s;
}

/**
 * Parses a non-empty, rectangular nested list of numbers starting at `b[i] === '['` (at
 * body depth 2), filling `shape` and the scratch values. Returns the index after the list,
 * or -1 for anything the fast path does not take.
 */
function parseList(b: Uint8Array, i: number, maxDepth: number, shape: number[]): number {
  if (b[i] !== OPEN_BRACKET) return -1;
  // Deeper lists (a configured depth limit over MAX_LEVELS + 1) take the general path.
  const levels = Math.min(maxDepth - 1, MAX_LEVELS);
  const counts = new Int32Array(Math.max(levels, 0));
  let level = -1; // level of the innermost open list (the outer list is level 0)
  let leafLevel = -1; // level of the lists that hold numbers
  let k = 0; // values written
  for (;;) {
    // b[i] starts a value inside the list at `level` (or the outer list itself).
    if (b[i] === OPEN_BRACKET) {
      level++;
      // The body object is depth 1, the outer list depth 2.
      if (level >= levels) return -1;
      if (leafLevel >= 0 && level > leafLevel) return -1;
      if (level === shape.length) shape.push(-1);
      counts[level] = 0;
      i = skipWs(b, i + 1);
      continue;
    }
    if (level < 0) return -1;
    if (leafLevel < 0) leafLevel = level;
    else if (leafLevel !== level) return -1;
    if (k === state.values.length) {
      const grown = new Float64Array(k * 2);
      grown.set(state.values);
      state.values = grown;
    }
    i = parseNumber(b, i, k);
    if (i < 0) return -1;
    k++;
    // After a value: commas continue the list, brackets close lists.
    for (;;) {
      counts[level]++;
      i = skipWs(b, i);
      const c = b[i];
      if (c === COMMA) {
        i = skipWs(b, i + 1);
        break;
      }
      if (c !== CLOSE_BRACKET) return -1;
      const len = counts[level];
      if (shape[level] < 0) shape[level] = len;
      else if (shape[level] !== len) return -1;
      level--;
      i++;
      if (level < 0) return i;
    }
  }
}

/**
 * Reads the JSON number at `b[i]` into scratch[k]; returns the index after it, or -1 when
 * the token is not a JSON number or not one the fast path reads (see FastPredictBody).
 */
function parseNumber(b: Uint8Array, i: number, k: number): number {
  let c = b[i];
  const negative = c === MINUS;
  if (negative) c = b[++i];
  if (c < DIGIT_0 || c > DIGIT_9) return -1;
  let m = 0; // the first EXACT_DIGITS digits
  let extra = 0; // the digits after those
  let digits = 0; // significant digits read
  let extraDigits = 0;
  let fraction = 0;
  if (c === DIGIT_0) {
    c = b[++i];
    if (c >= DIGIT_0 && c <= DIGIT_9) return -1; // a leading zero is not JSON
  } else {
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      if (digits < EXACT_DIGITS) m = m * 10 + (c - DIGIT_0);
      else if (extraDigits++ < MAX_EXTRA_DIGITS) extra = extra * 10 + (c - DIGIT_0);
      else return -1;
      digits++;
      c = b[++i];
    }
  }
  if (c === DOT) {
    state.integral = false;
    c = b[++i];
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    const start = i;
    // Zeros before the first significant digit only scale the value.
    if (digits === 0) while (c === DIGIT_0) c = b[++i];
    // Tight loops: the digits held exactly, then the extra ones (at most MAX_EXTRA_DIGITS).
    while (digits < EXACT_DIGITS && c >= DIGIT_0 && c <= DIGIT_9) {
      m = m * 10 + (c - DIGIT_0);
      digits++;
      c = b[++i];
    }
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      if (extraDigits === MAX_EXTRA_DIGITS) return -1;
      extra = extra * 10 + (c - DIGIT_0);
      extraDigits++;
      digits++;
      c = b[++i];
    }
    fraction = i - start;
  }
  let exponent = 0;
  if (c === LOWER_E || c === UPPER_E) {
    state.integral = false;
    c = b[++i];
    let expNegative = false;
    if (c === MINUS || c === PLUS) {
      expNegative = c === MINUS;
      c = b[++i];
    }
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      exponent = exponent * 10 + (c - DIGIT_0);
      if (exponent > 400) return -1;
      c = b[++i];
    }
    if (expNegative) exponent = -exponent;
  }
  const p = exponent - fraction;
  if (p < -44 || p > 22) return -1;
  let value: number;
  if (extraDigits === 0 && p >= -22) {
    // m < 10^15 is exact, and so is 10^p for |p| <= 22: one correctly rounded operation,
    // the same double JSON.parse gives (Clinger's fast path).
    value = p >= 0 ? m * POW10[p] : m / POW10[-p];
  } else {
    // At most four roundings, each within 2^-53 relative, on normal doubles (the magnitude
    // stays within 10^-44..10^44): within APPROX_MARGIN of the exact double.
    state.integral = false;
    state.approximate = true;
    const all = m * POW10[extraDigits] + extra;
    if (p >= 0) value = all * POW10[p];
    else if (p >= -22) value = all / POW10[-p];
    else value = all / POW10[22] / POW10[-p - 22];
  }
  if (value > F32_MAX) return -1;
  state.values[k] = negative ? -value : value;
  return i;
}
