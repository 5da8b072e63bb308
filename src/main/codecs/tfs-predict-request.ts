import { ServingError } from '../../core/errors.js';
import { DEFAULT_SIGNATURE_NAME, type Signature, type TensorSpec } from '../../core/signature.js';
import type { Tensor, TensorMap } from '../../core/tensor.js';
import { DEFAULT_MAX_ELEMENTS, decodeNested } from './json-nested.js';
import { JsonNumber } from './json-number.js';
import { assertJsonDType, isB64Object } from './json-values.js';

export { DEFAULT_MAX_ELEMENTS } from './json-nested.js';

export interface PredictDecodeOptions {
  /** Largest element count accepted for one input tensor (default DEFAULT_MAX_ELEMENTS). */
  readonly maxElements?: number;
  /**
   * The body's `signature_name` when the caller has already read (and type-checked) it: the
   * decoder then does not read it again. Absent: read from the body.
   */
  readonly signatureName?: string;
}

export type PredictFormat = 'row' | 'columnar';

export interface DecodedPredictRequest {
  readonly signatureName: string;
  /** `row` for `instances`, `columnar` for `inputs`; the response mirrors it. */
  readonly format: PredictFormat;
  readonly inputs: TensorMap;
}

/**
 * Decodes a parsed TF Serving REST predict body (see parseJsonBody) against the model's
 * signature, whose input dtypes decide how JSON values are read (json-values.ts). Pass the
 * `exactNumbers` reading when the signature has integer inputs (see hasIntegerInputs), so
 * `1.0` is rejected for them and 64-bit integers are read exactly.
 *
 * Row format (`instances`): a non-empty list; elements are stacked into [N, ...]. With one
 * input an element is a value/list or an object keyed by that one name; with several, each
 * element is an object whose keys are exactly the input names. Columnar format (`inputs`):
 * a bare value/list (one input only) or an object mapping every input name to a tensor;
 * no batch dim is added.
 *
 * Called by the REST front end, through PredictCall.inputs once the version is resolved.
 * Throws ServingError INVALID_ARGUMENT (UNIMPLEMENTED for float16 inputs) naming the input.
 */
export function decodePredictRequest(
  body: unknown,
  signature: Signature,
  opts: PredictDecodeOptions = {},
): DecodedPredictRequest {
  if (!isPlainObject(body)) throw invalid('Request body must be a JSON object');
  const maxElements = opts.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const sigName = opts.signatureName === undefined ? body['signature_name'] : opts.signatureName;
  if (sigName !== undefined && typeof sigName !== 'string')
    throw invalid("'signature_name' must be a string");
  const signatureName = sigName ?? DEFAULT_SIGNATURE_NAME;
  const instances = body['instances'];
  const columns = body['inputs'];
  if (instances !== undefined && columns !== undefined) {
    throw invalid("Not formatted correctly: expecting only one of 'inputs' or 'instances' keys, found both");
  }
  if (instances === undefined && columns === undefined) throw invalid("Missing 'inputs' or 'instances' key");
  const specs = signature.inputs;
  for (const spec of specs) assertJsonDType(spec.dtype, spec.name);
  if (instances !== undefined) {
    return { signatureName, format: 'row', inputs: decodeRows(instances, specs, maxElements) };
  }
  return { signatureName, format: 'columnar', inputs: decodeColumns(columns, specs, maxElements) };
}

function decodeRows(instances: unknown, specs: readonly TensorSpec[], maxElements: number): TensorMap {
  if (!Array.isArray(instances)) throw invalid("'instances' must be a list");
  if (instances.length === 0) throw invalid("'instances' must be a non-empty list");
  const inputs: TensorMap = {};
  if (specs.length === 1) {
    const spec = specs[0];
    const named = isNamedObject(instances[0]);
    // Objects keyed by the one input name are unwrapped into a plain list of values.
    let column: unknown[] = instances;
    if (named) {
      column = new Array(instances.length);
      for (let i = 0; i < instances.length; i++) {
        const el = instances[i];
        if (!isNamedObject(el)) throw invalid(`'instances' element ${i} must be an object like element 0`);
        checkKeys(el, specs, `'instances' element ${i}`);
        column[i] = el[spec.name];
      }
    } else {
      for (let i = 1; i < instances.length; i++) {
        if (isNamedObject(instances[i]))
          throw invalid(`'instances' element ${i} must be a value or list like element 0`);
      }
    }
    inputs[spec.name] = toTensor(column, spec, maxElements);
    return inputs;
  }
  for (let i = 0; i < instances.length; i++) {
    const el = instances[i];
    if (!isPlainObject(el)) {
      throw invalid(`'instances' element ${i} must be an object keyed by the input names: ${names(specs)}`);
    }
    checkKeys(el, specs, `'instances' element ${i}`);
  }
  for (const spec of specs) {
    const column = new Array(instances.length);
    for (let i = 0; i < instances.length; i++)
      column[i] = (instances[i] as Record<string, unknown>)[spec.name];
    inputs[spec.name] = toTensor(column, spec, maxElements);
  }
  return inputs;
}

function decodeColumns(columns: unknown, specs: readonly TensorSpec[], maxElements: number): TensorMap {
  const inputs: TensorMap = {};
  if (specs.length === 1 && !isNamedObject(columns)) {
    inputs[specs[0].name] = toTensor(columns, specs[0], maxElements);
    return inputs;
  }
  if (!isPlainObject(columns)) {
    throw invalid(`'inputs' must be an object keyed by the input names: ${names(specs)}`);
  }
  checkKeys(columns, specs, "'inputs' object");
  for (const spec of specs) inputs[spec.name] = toTensor(columns[spec.name], spec, maxElements);
  return inputs;
}

/** True when some input has an integer dtype, whose JSON values need exact numbers. */
export function hasIntegerInputs(signature: Signature): boolean {
  for (const spec of signature.inputs) {
    const d = spec.dtype;
    if (d !== 'float32' && d !== 'float64' && d !== 'float16' && d !== 'bool' && d !== 'string') return true;
  }
  return false;
}

function toTensor(value: unknown, spec: TensorSpec, maxElements: number): Tensor {
  const { shape, data } = decodeNested(value, spec.dtype, {
    tensorName: spec.name,
    allowB64: true,
    maxElements,
  });
  return { dtype: spec.dtype, shape, data };
}

/** The object's keys must be exactly the input names. */
function checkKeys(obj: Record<string, unknown>, specs: readonly TensorSpec[], where: string): void {
  for (const spec of specs) {
    if (!Object.hasOwn(obj, spec.name)) throw invalid(`Missing named input: ${spec.name} in ${where}.`);
  }
  let keys = 0;
  for (const _ in obj) keys++;
  if (keys === specs.length) return;
  const known = new Set(specs.map((s) => s.name));
  const extra = Object.keys(obj).filter((k) => !known.has(k));
  throw invalid(
    `Unknown named input: ${extra.join(', ')} in ${where}; the model's inputs are: ${names(specs)}`,
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

/** An object that maps input names (as opposed to a `{"b64": ...}` string value). */
function isNamedObject(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && !isB64Object(v);
}

function names(specs: readonly TensorSpec[]): string {
  return specs.map((s) => s.name).join(', ');
}

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}
