import type { Tensor } from '../../core/tensor.js';
import { formatFloat32, formatFloat64, halfToNumber } from './float-format.js';

/** Formats element `i` of a tensor as JSON text. */
export type ElementFormatter = (i: number) => string;

export interface FormatterOptions {
  /** String elements as `{"b64": "..."}` instead of UTF-8 text. */
  readonly b64Strings: boolean;
}

/**
 * The JSON text writer for one tensor's elements: floats shortest for their dtype
 * (float16 via its exact float32 value), integers plain, 64-bit integers exact from BigInt,
 * bools as `true`/`false`, strings as UTF-8 text (invalid sequences become U+FFFD) or b64.
 */
export function elementFormatter(t: Tensor, opts: FormatterOptions): ElementFormatter {
  switch (t.dtype) {
    case 'float32': {
      const d = t.data as Float32Array;
      return (i) => formatFloat32(d[i]);
    }
    case 'float64': {
      const d = t.data as Float64Array;
      return (i) => formatFloat64(d[i]);
    }
    case 'float16': {
      const d = t.data as Uint16Array;
      return (i) => formatFloat32(halfToNumber(d[i]));
    }
    case 'int64':
    case 'uint64': {
      const d = t.data as BigInt64Array | BigUint64Array;
      return (i) => d[i].toString();
    }
    case 'bool': {
      const d = t.data as Uint8Array;
      return (i) => (d[i] ? 'true' : 'false');
    }
    case 'string': {
      const d = t.data as Uint8Array[];
      if (opts.b64Strings) return (i) => `{"b64":"${bufferOf(d[i]).toString('base64')}"}`;
      return (i) => JSON.stringify(bufferOf(d[i]).toString('utf8'));
    }
    default: {
      const d = t.data as Int32Array;
      return (i) => String(d[i]);
    }
  }
}

/**
 * Writes the sub-tensor starting at element `offset` whose shape is `shape[fromDim..]` as
 * nested JSON lists (a bare value when fromDim === shape.length).
 */
export function writeNested(
  shape: readonly number[],
  fmt: ElementFormatter,
  fromDim: number,
  offset: number,
): string {
  if (fromDim === shape.length) return fmt(offset);
  return writeLevel(shape, fmt, fromDim, offset, strideOf(shape, fromDim + 1));
}

/** Writes all `count` elements as one flat JSON list. */
export function writeFlat(count: number, fmt: ElementFormatter): string {
  if (count === 0) return '[]';
  let s = `[${fmt(0)}`;
  for (let i = 1; i < count; i++) s += `,${fmt(i)}`;
  return `${s}]`;
}

/** Elements per step along dim `from - 1`: the product of shape[from..]. */
export function strideOf(shape: readonly number[], from: number): number {
  let n = 1;
  for (let d = from; d < shape.length; d++) n *= shape[d];
  return n;
}

function writeLevel(
  shape: readonly number[],
  fmt: ElementFormatter,
  dim: number,
  offset: number,
  stride: number,
): string {
  const len = shape[dim];
  if (len === 0) return '[]';
  let s = '[';
  if (dim === shape.length - 1) {
    s += fmt(offset);
    for (let i = 1; i < len; i++) s += `,${fmt(offset + i)}`;
    return `${s}]`;
  }
  const inner = stride / (shape[dim + 1] || 1);
  for (let i = 0; i < len; i++) {
    if (i > 0) s += ',';
    s += writeLevel(shape, fmt, dim + 1, offset + i * stride, inner);
  }
  return `${s}]`;
}

function bufferOf(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}
