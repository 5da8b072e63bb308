import { ServingError } from '../../core/errors.js';

/**
 * KServe v2's framing of BYTES tensors as raw bytes, the same in the REST binary extension
 * and in gRPC `raw_input_contents` / `raw_output_contents`: every element is a 4-byte
 * little-endian length, then that many bytes, elements back to back in row-major order.
 */

/**
 * Splits framed bytes into exactly `count` elements (views into `raw`, no copy). `what`
 * names the tensor in errors (`Input 'x'`). Throws ServingError INVALID_ARGUMENT when the
 * data ends inside an element or holds bytes beyond the last one.
 */
export function decodeBytesElements(raw: Uint8Array, count: number, what: string): Uint8Array[] {
  const out = new Array<Uint8Array>(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (raw.byteLength - pos < 4) throw endsInside(what, i, count);
    const len = view.getUint32(pos, true);
    pos += 4;
    if (len > raw.byteLength - pos) throw endsInside(what, i, count);
    out[i] = raw.subarray(pos, pos + len);
    pos += len;
  }
  if (pos !== raw.byteLength) {
    throw new ServingError(
      'INVALID_ARGUMENT',
      `${what}: the BYTES data has ${raw.byteLength - pos} bytes beyond the ${count} elements of its shape`,
    );
  }
  return out;
}

function endsInside(what: string, at: number, count: number): ServingError {
  return new ServingError(
    'INVALID_ARGUMENT',
    `${what}: the BYTES data ends inside element ${at} of ${count}`,
  );
}

/** Framed size of `elements`: 4 bytes of length per element plus the bytes themselves. */
export function bytesElementsSize(elements: readonly Uint8Array[]): number {
  let size = 0;
  for (const e of elements) size += 4 + e.byteLength;
  return size;
}

/** Writes `elements` framed into `target` at `offset` (the caller sized it); returns the end offset. */
export function writeBytesElements(target: Buffer, offset: number, elements: readonly Uint8Array[]): number {
  let pos = offset;
  for (const e of elements) {
    target.writeUInt32LE(e.byteLength, pos);
    target.set(e, pos + 4);
    pos += 4 + e.byteLength;
  }
  return pos;
}

/** `elements` framed into a new buffer. */
export function encodeBytesElements(elements: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(bytesElementsSize(elements));
  writeBytesElements(out, 0, elements);
  return out;
}
