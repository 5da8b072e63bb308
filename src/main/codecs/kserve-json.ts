import type { DType } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import { elementCount, type Tensor, type TensorMap } from '../../core/tensor.js';
import { checkElementCount, DEFAULT_MAX_ELEMENTS, decodeNested } from './json-nested.js';
import { elementFormatter, writeFlat } from './json-tensor-writer.js';
import type { TensorStorage } from './json-values.js';
import { dtypeOfKServe, isKServeDatatype, kserveDatatype } from './kserve-dtype.js';

/** One entry of a v2 request's `outputs` list. */
export interface InferRequestedOutput {
  readonly name: string;
  readonly parameters?: Record<string, unknown>;
}

/** A decoded KServe v2 `/infer` request. Input tensors may view the request body (binary). */
export interface InferRequest {
  readonly id?: string;
  readonly parameters?: Record<string, unknown>;
  readonly inputs: TensorMap;
  /** Input names in request order. */
  readonly inputOrder: readonly string[];
  /** Requested outputs; undefined means all. */
  readonly outputs?: readonly InferRequestedOutput[];
}

export interface InferDecodeOptions {
  /** Largest element count accepted for one input tensor (default DEFAULT_MAX_ELEMENTS). */
  readonly maxElements?: number;
}

/** One output of a v2 response. */
export interface InferResponseOutput {
  readonly name: string;
  readonly tensor: Tensor;
  /** Output parameters to echo (e.g. from the request); `binary_data_size` is set by the codec. */
  readonly parameters?: Record<string, unknown>;
}

export interface InferResponse {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  readonly parameters?: Record<string, unknown>;
  readonly outputs: readonly InferResponseOutput[];
}

/**
 * Supplies the data of an input that carries `parameters.binary_data_size`; called in
 * input order. Implemented by kserve-binary.ts.
 */
export type BinaryInputReader = (
  name: string,
  dtype: DType,
  shape: readonly number[],
  size: number,
) => TensorStorage;

/**
 * Decodes a parsed v2 `/infer` JSON body. `data` may be flat or nested (row-major); its
 * element count must equal the product of `shape`. FP16 is accepted only as binary data.
 * Throws ServingError INVALID_ARGUMENT naming the input (UNIMPLEMENTED for BF16).
 */
export function decodeInferRequest(body: unknown, opts: InferDecodeOptions = {}): InferRequest {
  return decodeInferRequestWith(body, opts, undefined);
}

/** decodeInferRequest with a reader for binary inputs (the binary extension). */
export function decodeInferRequestWith(
  body: unknown,
  opts: InferDecodeOptions,
  binary: BinaryInputReader | undefined,
): InferRequest {
  if (!isObject(body)) throw invalid('Request body must be a JSON object');
  const maxElements = opts.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const { id, parameters, outputs } = body;
  if (id !== undefined && typeof id !== 'string') throw invalid("'id' must be a string");
  if (parameters !== undefined && !isObject(parameters)) throw invalid("'parameters' must be an object");
  if (!Array.isArray(body.inputs)) throw invalid("'inputs' must be a list of input tensors");
  const inputs: TensorMap = {};
  const inputOrder: string[] = [];
  for (const raw of body.inputs) {
    const t = decodeInput(raw, maxElements, binary);
    if (Object.hasOwn(inputs, t.name)) throw invalid(`Input '${t.name}' appears more than once`);
    inputs[t.name] = t.tensor;
    inputOrder.push(t.name);
  }
  const req: { -readonly [K in keyof InferRequest]: InferRequest[K] } = { inputs, inputOrder };
  if (id !== undefined) req.id = id;
  if (parameters !== undefined) req.parameters = parameters;
  if (outputs !== undefined) req.outputs = decodeRequestedOutputs(outputs);
  return req;
}

function decodeInput(
  raw: unknown,
  maxElements: number,
  binary: BinaryInputReader | undefined,
): { name: string; tensor: Tensor } {
  if (!isObject(raw) || typeof raw.name !== 'string' || raw.name === '') {
    throw invalid("Each entry of 'inputs' must be an object with a non-empty string 'name'");
  }
  const name = raw.name;
  const shape = raw.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw invalid(`Input '${name}': 'shape' must be a list of non-negative integers`);
  }
  const dims = shape as number[];
  const datatype = raw.datatype;
  if (!isKServeDatatype(datatype))
    throw invalid(`Input '${name}': unknown datatype ${JSON.stringify(datatype)}`);
  const dtype = dtypeOfKServe(datatype);
  if (dtype === undefined) {
    throw new ServingError('UNIMPLEMENTED', `Input '${name}': datatype ${datatype} is not supported`);
  }
  const params = raw.parameters;
  if (params !== undefined && !isObject(params))
    throw invalid(`Input '${name}': 'parameters' must be an object`);
  const count = elementCount(dims);
  checkElementCount(count, { tensorName: name, allowB64: false, maxElements });
  const binarySize = params?.['binary_data_size'];
  if (binarySize !== undefined) {
    if (!Number.isSafeInteger(binarySize) || (binarySize as number) < 0) {
      throw invalid(`Input '${name}': 'binary_data_size' must be a non-negative integer`);
    }
    if (binary === undefined) {
      throw invalid(`Input '${name}' has 'binary_data_size' but the request carries no binary data`);
    }
    if (raw.data !== undefined) throw invalid(`Input '${name}' has both 'data' and 'binary_data_size'`);
    return { name, tensor: { dtype, shape: dims, data: binary(name, dtype, dims, binarySize as number) } };
  }
  if (raw.data === undefined) throw invalid(`Input '${name}': missing 'data'`);
  if (dtype === 'float16') {
    throw invalid(`Input '${name}': FP16 data is only accepted through the binary tensor extension`);
  }
  if (!Array.isArray(raw.data)) throw invalid(`Input '${name}': 'data' must be a list`);
  const decoded = decodeNested(raw.data, dtype, { tensorName: name, allowB64: false, maxElements });
  const got = elementCount(decoded.shape);
  if (got !== count) {
    throw invalid(`Input '${name}': 'data' has ${got} elements but shape [${dims.join(',')}] needs ${count}`);
  }
  return { name, tensor: { dtype, shape: dims, data: decoded.data } };
}

function decodeRequestedOutputs(outputs: unknown): InferRequestedOutput[] {
  if (!Array.isArray(outputs)) throw invalid("'outputs' must be a list");
  return outputs.map((o) => {
    if (!isObject(o) || typeof o.name !== 'string') {
      throw invalid("Each entry of 'outputs' must be an object with a string 'name'");
    }
    if (o.parameters !== undefined && !isObject(o.parameters)) {
      throw invalid(`Output '${o.name}': 'parameters' must be an object`);
    }
    return o.parameters === undefined ? { name: o.name } : { name: o.name, parameters: o.parameters };
  });
}

/** Encodes a v2 `/infer` response as JSON text with flat `data` lists. */
export function encodeInferResponse(resp: InferResponse): string {
  return encodeInferResponseHeader(resp, undefined);
}

/**
 * The response JSON; outputs with a size in `binarySizes` (by output index) carry
 * `parameters.binary_data_size` instead of `data`. Used by kserve-binary.ts.
 */
export function encodeInferResponseHeader(
  resp: InferResponse,
  binarySizes: readonly (number | undefined)[] | undefined,
): string {
  let s = `{"model_name":${JSON.stringify(resp.modelName)},"model_version":${JSON.stringify(resp.modelVersion)}`;
  if (resp.id !== undefined) s += `,"id":${JSON.stringify(resp.id)}`;
  if (resp.parameters !== undefined) s += `,"parameters":${JSON.stringify(resp.parameters)}`;
  s += ',"outputs":[';
  resp.outputs.forEach((o, k) => {
    const t = o.tensor;
    if (k > 0) s += ',';
    s += `{"name":${JSON.stringify(o.name)},"datatype":"${kserveDatatype(t.dtype)}","shape":[${t.shape.join(',')}]`;
    const size = binarySizes?.[k];
    if (size !== undefined) {
      s += `,"parameters":${JSON.stringify({ ...o.parameters, binary_data_size: size })}}`;
      return;
    }
    if (o.parameters !== undefined) s += `,"parameters":${JSON.stringify(o.parameters)}`;
    s += `,"data":${writeFlat(elementCount(t.shape), elementFormatter(t, { b64Strings: false }))}}`;
  });
  return `${s}]}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}
