import { type DType, typedArrayCtor } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import { elementCount, type Tensor } from '../../core/tensor.js';
import { bytesElementsSize, decodeBytesElements, writeBytesElements } from './bytes-framing.js';
import { parseJsonBody } from './json-body.js';
import type { TensorStorage } from './json-values.js';
import {
  decodeInferRequestWith,
  encodeInferResponseHeader,
  type InferDecodeOptions,
  type InferRequest,
  type InferResponse,
} from './kserve-json.js';

/** The header that gives the JSON part's byte length in a binary-extension body. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

export interface BinaryDecodeOptions extends InferDecodeOptions {
  /** Nesting limit for the JSON header (see parseJsonBody). */
  readonly maxDepth: number;
}

/**
 * Decodes a v2 `/infer` body that uses the binary tensor extension: `headerLength` bytes of
 * JSON, then the raw data of every input with `parameters.binary_data_size`, in input
 * order. Numeric inputs become typed-array views into `body` where the offset is aligned
 * (one copy otherwise); BYTES elements (4-byte little-endian length + bytes) are views.
 *
 * Ownership: the returned tensors may share memory with `body`; the caller must not reuse
 * or transfer body's ArrayBuffer while they are alive.
 * Throws ServingError INVALID_ARGUMENT when the header length is not an integer in
 * [0, body length], when sizes disagree with shapes, or when bytes are left over.
 */
export function decodeInferBinaryRequest(
  body: Uint8Array,
  headerLength: string | number | undefined,
  opts: BinaryDecodeOptions,
): InferRequest {
  const jsonLength = parseHeaderLength(headerLength, body.byteLength);
  const text = Buffer.from(body.buffer, body.byteOffset, jsonLength).toString('utf8');
  const header = parseJsonBody(text, opts);
  let cursor = jsonLength;
  const req = decodeInferRequestWith(header, opts, (name, dtype, shape, size) => {
    if (size > body.byteLength - cursor) {
      throw invalid(`Input '${name}': binary_data_size ${size} runs past the end of the request body`);
    }
    const bytes = body.subarray(cursor, cursor + size);
    cursor += size;
    return storageFromBytes(name, dtype, shape, bytes);
  });
  if (cursor !== body.byteLength) {
    throw invalid(
      `The request body has ${body.byteLength - cursor} bytes of binary data that no input claims`,
    );
  }
  return req;
}

function parseHeaderLength(value: string | number | undefined, bodyLength: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > bodyLength) {
    throw invalid(
      `Inference-Header-Content-Length must be an integer in [0, ${bodyLength}] (the body length), got '${value ?? ''}'`,
    );
  }
  return n;
}

/** Raw little-endian bytes of one input → tensor storage for its dtype and shape. */
export function storageFromBytes(
  name: string,
  dtype: DType,
  shape: readonly number[],
  bytes: Uint8Array,
): TensorStorage {
  const count = elementCount(shape);
  if (dtype === 'string') return decodeBytesElements(bytes, count, `Input '${name}'`);
  const Ctor = typedArrayCtor(dtype);
  const want = count * Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== want) {
    throw invalid(
      `Input '${name}': binary_data_size ${bytes.byteLength} does not match shape [${shape.join(',')}] of ${dtype} (${want} bytes)`,
    );
  }
  if (dtype === 'bool') return normalizeBools(bytes);
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
  // Unaligned views are not allowed for multi-byte typed arrays: copy once.
  const out = new Ctor(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function normalizeBools(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 1) {
      const out = new Uint8Array(bytes.length);
      for (let j = 0; j < bytes.length; j++) out[j] = bytes[j] ? 1 : 0;
      return out;
    }
  }
  return bytes;
}

/**
 * Which outputs go back as binary: an output's own `parameters.binary_data` (true/false)
 * wins; otherwise the request's `parameters.binary_data_output`.
 */
export function wantsBinaryOutput(req: InferRequest, outputName: string): boolean {
  const own = req.outputs?.find((o) => o.name === outputName)?.parameters?.['binary_data'];
  if (typeof own === 'boolean') return own;
  return req.parameters?.['binary_data_output'] === true;
}

/**
 * Encodes a v2 response with the binary extension: the JSON header (binary outputs carry
 * `parameters.binary_data_size` and no `data`), then the binary outputs' raw bytes in
 * output order. `headerLength` goes into the `Inference-Header-Content-Length` header.
 * When no output is binary the body is plain JSON and headerLength equals its length.
 */
export function encodeInferBinaryResponse(
  resp: InferResponse,
  isBinary: (outputName: string) => boolean,
): { body: Buffer; headerLength: number } {
  const payloads: (Uint8Array | Uint8Array[] | undefined)[] = [];
  const sizes: (number | undefined)[] = [];
  let total = 0;
  for (const o of resp.outputs) {
    if (!isBinary(o.name)) {
      payloads.push(undefined);
      sizes.push(undefined);
      continue;
    }
    const p = bytesOf(o.tensor);
    const size = Array.isArray(p) ? bytesElementsSize(p) : p.byteLength;
    payloads.push(p);
    sizes.push(size);
    total += size;
  }
  const header = encodeInferResponseHeader(resp, sizes);
  const headerLength = Buffer.byteLength(header);
  const body = Buffer.allocUnsafe(headerLength + total);
  body.write(header, 0, 'utf8');
  let pos = headerLength;
  for (const p of payloads) {
    if (p === undefined) continue;
    if (!Array.isArray(p)) {
      body.set(p, pos);
      pos += p.byteLength;
      continue;
    }
    pos = writeBytesElements(body, pos, p);
  }
  return { body, headerLength };
}

function bytesOf(t: Tensor): Uint8Array | Uint8Array[] {
  if (t.dtype === 'string') return t.data as Uint8Array[];
  const d = t.data as Exclude<Tensor['data'], Uint8Array[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}
