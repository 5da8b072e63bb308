import type { InferInputTensorObject, InferOutputTensorObject } from './kserve-grpc.js';
import {
  FALLBACK,
  lenFieldSize,
  varintSize,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
  WireWriter,
} from './proto-wire.js';
import type { TensorProtoObject } from './tensor-proto.js';
import { TF_DATA_TYPES, type TfDataTypeName, tfDataTypeNameOf } from './tf-dtype.js';

/**
 * Hand-written codecs of the hot gRPC messages: `inference.ModelInferRequest` /
 * `ModelInferResponse` (KServe v2) and `tensorflow.serving.PredictRequest` /
 * `PredictResponse`, for the common shape of each: tensors as raw bytes
 * (`raw_input_contents`, `tensor_content`), no parameters, no typed value lists.
 *
 * Decoders build the same plain objects @grpc/proto-loader would (grpc-protos.ts'
 * LOADER_OPTIONS: unset fields absent, repeated and map fields present, except a
 * TensorProto's typed value lists, which the fast path never carries), with every bytes
 * field a view over the received message (no copy), skipping the generic decode-then-
 * toObject pass. Encoders size the response and write it into one Buffer. Each returns
 * undefined for a message outside that common shape (a typed value list, parameters, a
 * value beyond 2^53, a malformed message), and the caller uses proto-loader's codec, so
 * what clients see never depends on which path ran. Numbers (int64 dims, versions) come as
 * JS numbers, which the handlers accept as they accept proto-loader's strings.
 */

export interface FastModelInferRequest {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters: Record<string, never>;
  inputs: InferInputTensorObject[];
  outputs: { name?: string; parameters: Record<string, never> }[];
  raw_input_contents: Buffer[];
}

export interface FastPredictRequest {
  model_spec?: {
    name?: string;
    version?: { value?: string };
    version_label?: string;
    version_choice?: 'version' | 'version_label';
    signature_name?: string;
  };
  inputs: Record<string, TensorProtoObject>;
  output_filter: string[];
}

/** Runs a fast codec; FALLBACK, or any error a malformed message causes, means "use the general codec". */
function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Packed or unpacked repeated int64 (dims) into `out`. */
function readDims(r: WireReader, wireType: number, out: (string | number)[]): void {
  if (wireType === WIRE_VARINT) {
    out.push(r.varint());
    return;
  }
  if (wireType !== WIRE_LEN) throw FALLBACK;
  const sub = r.sub();
  while (!sub.done) out.push(sub.varint());
}

function readInferInput(r: WireReader): InferInputTensorObject {
  const input: InferInputTensorObject & { parameters: Record<string, never> } = { shape: [], parameters: {} };
  const shape = input.shape as (string | number)[];
  while (!r.done) {
    const tag = r.tag();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== WIRE_LEN) throw FALLBACK;
        input.name = r.string();
        break;
      case 2:
        if (wire !== WIRE_LEN) throw FALLBACK;
        input.datatype = r.string();
        break;
      case 3:
        readDims(r, wire, shape);
        break;
      case 4: // parameters
      case 5: // typed contents
        throw FALLBACK;
      default:
        r.skip(wire);
    }
  }
  return input;
}

function readRequestedOutput(r: WireReader): { name?: string; parameters: Record<string, never> } {
  const out: { name?: string; parameters: Record<string, never> } = { parameters: {} };
  while (!r.done) {
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (field === 1 && wire === WIRE_LEN) out.name = r.string();
    else if (field === 2) throw FALLBACK;
    else r.skip(wire);
  }
  return out;
}

/** `inference.ModelInferRequest` from its wire bytes; undefined: use the general codec. */
export function decodeModelInferRequest(buf: Buffer): FastModelInferRequest | undefined {
  return attempt(() => {
    const r = new WireReader(buf);
    const msg: FastModelInferRequest = { parameters: {}, inputs: [], outputs: [], raw_input_contents: [] };
    while (!r.done) {
      const tag = r.tag();
      const wire = tag & 7;
      const field = tag >>> 3;
      if (wire !== WIRE_LEN) {
        if (field >= 1 && field <= 7) throw FALLBACK;
        r.skip(wire);
        continue;
      }
      switch (field) {
        case 1:
          msg.model_name = r.string();
          break;
        case 2:
          msg.model_version = r.string();
          break;
        case 3:
          msg.id = r.string();
          break;
        case 4:
          throw FALLBACK;
        case 5:
          msg.inputs.push(readInferInput(r.sub()));
          break;
        case 6:
          msg.outputs.push(readRequestedOutput(r.sub()));
          break;
        case 7:
          msg.raw_input_contents.push(r.bytes());
          break;
        default:
          r.skip(wire);
      }
    }
    return msg;
  });
}

function readShape(r: WireReader): { dim: { size?: number; name?: string }[]; unknown_rank?: boolean } {
  const shape: { dim: { size?: number; name?: string }[]; unknown_rank?: boolean } = { dim: [] };
  while (!r.done) {
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (field === 2 && wire === WIRE_LEN) {
      const d = r.sub();
      const dim: { size?: number; name?: string } = {};
      while (!d.done) {
        const t = d.tag();
        const w = t & 7;
        const f = t >>> 3;
        if (f === 1 && w === WIRE_VARINT) dim.size = d.varint();
        else if (f === 2 && w === WIRE_LEN) dim.name = d.string();
        else if (f === 1 || f === 2) throw FALLBACK;
        else d.skip(w);
      }
      shape.dim.push(dim);
    } else if (field === 3 && wire === WIRE_VARINT) shape.unknown_rank = r.varint() !== 0;
    else if (field === 2 || field === 3) throw FALLBACK;
    else r.skip(wire);
  }
  return shape;
}

function readTensorProto(r: WireReader): TensorProtoObject {
  const t: TensorProtoObject & Record<string, unknown> = {};
  while (!r.done) {
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (field === 1 && wire === WIRE_VARINT) {
      const name = tfDataTypeNameOf(r.varint());
      if (name === undefined) throw FALLBACK;
      t.dtype = name;
    } else if (field === 2 && wire === WIRE_LEN) t.tensor_shape = readShape(r.sub());
    else if (field === 3 && wire === WIRE_VARINT) t.version_number = r.varint();
    else if (field === 4 && wire === WIRE_LEN) t.tensor_content = r.bytes();
    else if (field <= 17)
      throw FALLBACK; // typed value lists and the rest of TensorProto
    else r.skip(wire);
  }
  return t;
}

function readModelSpec(r: WireReader): NonNullable<FastPredictRequest['model_spec']> {
  const spec: NonNullable<FastPredictRequest['model_spec']> = {};
  while (!r.done) {
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (wire !== WIRE_LEN) {
      if (field >= 1 && field <= 4) throw FALLBACK;
      r.skip(wire);
      continue;
    }
    if (field === 1) spec.name = r.string();
    else if (field === 3) spec.signature_name = r.string();
    else if (field === 2 || field === 4) {
      // The version oneof: both members on the wire is left to the general codec.
      if (spec.version_choice !== undefined) throw FALLBACK;
      if (field === 4) {
        spec.version_label = r.string();
        spec.version_choice = 'version_label';
      } else {
        const v = r.sub();
        const version: { value?: string } = {};
        while (!v.done) {
          const t = v.tag();
          if (t === 0x08) version.value = String(v.varint());
          else if (t >>> 3 === 1) throw FALLBACK;
          else v.skip(t & 7);
        }
        spec.version = version;
        spec.version_choice = 'version';
      }
    } else r.skip(wire);
  }
  return spec;
}

/** `tensorflow.serving.PredictRequest` from its wire bytes; undefined: use the general codec. */
export function decodePredictRequest(buf: Buffer): FastPredictRequest | undefined {
  return attempt(() => {
    const r = new WireReader(buf);
    const msg: FastPredictRequest = { inputs: {}, output_filter: [] };
    while (!r.done) {
      const tag = r.tag();
      const wire = tag & 7;
      const field = tag >>> 3;
      if (wire !== WIRE_LEN) {
        if (field >= 1 && field <= 3) throw FALLBACK;
        r.skip(wire);
        continue;
      }
      if (field === 1) msg.model_spec = readModelSpec(r.sub());
      else if (field === 2) {
        const e = r.sub();
        let key = '';
        let value: TensorProtoObject = {};
        while (!e.done) {
          const t = e.tag();
          if (t === 0x0a) key = e.string();
          else if (t === 0x12) value = readTensorProto(e.sub());
          else if (t >>> 3 <= 2) throw FALLBACK;
          else e.skip(t & 7);
        }
        if (key === '__proto__') throw FALLBACK;
        msg.inputs[key] = value;
      } else if (field === 3) msg.output_filter.push(r.string());
      else r.skip(wire);
    }
    return msg;
  });
}

/** What the KServe handler answers (kserve-service.ts), as the general codec takes it. */
export interface ModelInferResponseObject {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensorObject[];
  raw_output_contents: Uint8Array[];
}

function dimsSize(shape: readonly (string | number)[]): number {
  let n = 0;
  for (const d of shape) {
    const v = Number(d);
    if (!Number.isSafeInteger(v) || v < 0) throw FALLBACK;
    n += varintSize(v);
  }
  return n;
}

function writeDims(w: WireWriter, field: number, shape: readonly (string | number)[], size: number): void {
  if (shape.length === 0) return;
  w.lenHeader(field, size);
  for (const d of shape) w.varint(Number(d));
}

/** Encodes a ModelInferResponse with raw output contents; undefined: use the general codec. */
export function encodeModelInferResponse(res: ModelInferResponseObject): Buffer | undefined {
  return attempt(() => {
    const nameLen = Buffer.byteLength(res.model_name);
    const versionLen = Buffer.byteLength(res.model_version);
    const idLen = Buffer.byteLength(res.id);
    let size = lenFieldSize(nameLen) + lenFieldSize(versionLen) + (idLen > 0 ? lenFieldSize(idLen) : 0);
    const outputs = res.outputs;
    const sizes: number[] = new Array(outputs.length * 4);
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i];
      if (o.contents !== undefined) throw FALLBACK;
      const n = Buffer.byteLength(o.name);
      const dt = Buffer.byteLength(o.datatype);
      const dims = dimsSize(o.shape);
      const inner = lenFieldSize(n) + lenFieldSize(dt) + (o.shape.length > 0 ? lenFieldSize(dims) : 0);
      sizes[i * 4] = n;
      sizes[i * 4 + 1] = dt;
      sizes[i * 4 + 2] = dims;
      sizes[i * 4 + 3] = inner;
      size += lenFieldSize(inner);
    }
    for (const raw of res.raw_output_contents) size += lenFieldSize(raw.byteLength);
    const w = new WireWriter(size);
    w.string(1, res.model_name, nameLen);
    w.string(2, res.model_version, versionLen);
    if (idLen > 0) w.string(3, res.id, idLen);
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i];
      w.lenHeader(5, sizes[i * 4 + 3]);
      w.string(1, o.name, sizes[i * 4]);
      w.string(2, o.datatype, sizes[i * 4 + 1]);
      writeDims(w, 3, o.shape, sizes[i * 4 + 2]);
    }
    for (const raw of res.raw_output_contents) w.bytes(6, raw);
    return w.buf;
  });
}

/** What the TF Serving Predict handler answers (tf-prediction-service.ts). */
export interface PredictResponseObject {
  model_spec: { name: string; version: { value: string }; signature_name: string };
  outputs: Record<string, TensorProtoObject>;
}

interface SizedTensor {
  readonly key: string;
  readonly keyLen: number;
  readonly dtype: number;
  readonly dims: readonly number[];
  readonly shapeLen: number;
  readonly content: Uint8Array;
  readonly tensorLen: number;
  readonly entryLen: number;
}

function sizeTensor(key: string, t: TensorProtoObject): SizedTensor {
  const content = t.tensor_content;
  // Strings and typed value lists take the general codec.
  if (content === undefined || typeof t.dtype !== 'string') throw FALLBACK;
  for (const k in t) if (k !== 'dtype' && k !== 'tensor_shape' && k !== 'tensor_content') throw FALLBACK;
  const dtype = TF_DATA_TYPES[t.dtype as TfDataTypeName];
  if (dtype === undefined) throw FALLBACK;
  const dims: number[] = [];
  let shapeLen = 0;
  for (const d of t.tensor_shape?.dim ?? []) {
    if (d.name !== undefined) throw FALLBACK;
    const v = Number(d.size ?? 0);
    if (!Number.isSafeInteger(v) || v < 0) throw FALLBACK;
    dims.push(v);
    // dim { size: v }: a zero size is still written, as protobufjs writes set fields.
    shapeLen += lenFieldSize(1 + varintSize(v));
  }
  const keyLen = Buffer.byteLength(key);
  const tensorLen = 1 + varintSize(dtype) + lenFieldSize(shapeLen) + lenFieldSize(content.byteLength);
  const entryLen = lenFieldSize(keyLen) + lenFieldSize(tensorLen);
  return { key, keyLen, dtype, dims, shapeLen, content, tensorLen, entryLen };
}

/** Encodes a PredictResponse whose outputs use tensor_content; undefined: use the general codec. */
export function encodePredictResponse(res: PredictResponseObject): Buffer | undefined {
  return attempt(() => {
    const tensors: SizedTensor[] = [];
    let size = 0;
    for (const key of Object.keys(res.outputs)) {
      const t = sizeTensor(key, res.outputs[key]);
      tensors.push(t);
      size += lenFieldSize(t.entryLen);
    }
    const spec = res.model_spec;
    const version = Number(spec.version.value);
    if (!Number.isSafeInteger(version) || version < 0) throw FALLBACK;
    const nameLen = Buffer.byteLength(spec.name);
    const sigLen = Buffer.byteLength(spec.signature_name);
    const versionLen = 1 + varintSize(version);
    const specLen = lenFieldSize(nameLen) + lenFieldSize(versionLen) + lenFieldSize(sigLen);
    size += lenFieldSize(specLen);
    const w = new WireWriter(size);
    for (const t of tensors) {
      w.lenHeader(1, t.entryLen);
      w.string(1, t.key, t.keyLen);
      w.lenHeader(2, t.tensorLen);
      w.tag(1, WIRE_VARINT);
      w.varint(t.dtype);
      w.lenHeader(2, t.shapeLen);
      for (const d of t.dims) {
        w.lenHeader(2, 1 + varintSize(d));
        w.tag(1, WIRE_VARINT);
        w.varint(d);
      }
      w.bytes(4, t.content);
    }
    w.lenHeader(2, specLen);
    w.string(1, spec.name, nameLen);
    w.lenHeader(2, versionLen);
    w.tag(1, WIRE_VARINT);
    w.varint(version);
    w.string(3, spec.signature_name, sigLen);
    return w.buf;
  });
}
