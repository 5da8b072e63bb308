import type { DType } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import type { Signature, TensorSpec } from '../../core/signature.js';
import type { Tensor, TensorMap } from '../../core/tensor.js';
import { JsonNumber } from '../codecs/json-number.js';
import { decodeBase64, isB64Object } from '../codecs/json-values.js';
import type { Feature, Features } from '../codecs/tf-example.js';
import type { ExampleSignature } from '../config/example-signatures.js';

/** Which feature feeds which model input, for the signature(s) `name` names. */
export interface FeedPlan {
  readonly name: string;
  /** [feature, model input] pairs; each input appears once. */
  readonly feeds: readonly (readonly [string, string])[];
}

/** A declared signature's feed plan. */
export function feedPlanOf(sig: ExampleSignature): FeedPlan {
  return { name: sig.name, feeds: Object.entries(sig.inputs) };
}

/**
 * tf.Examples → the model's input tensors. Each example becomes one row: the values of the
 * feature mapped to an input fill that input's non-batch dims, and rows stack along the
 * batch dim (so `N` examples make `[N, ...]` tensors that batch with Predict traffic).
 *
 * Kinds: `float_list` feeds float32/float64 inputs, `int64_list` integer inputs, and
 * `bytes_list` string inputs. REST values (kind `json`) take the kind of the input they
 * feed: any number for a float input, integers for an integer input, strings or
 * `{"b64": ...}` for a string input.
 *
 * Errors: INVALID_ARGUMENT naming the feature (missing, wrong kind, ragged lengths, a length
 * the input's shape cannot take, a value out of range) or the signature (no examples);
 * FAILED_PRECONDITION naming the signature when the config does not fit the model (an
 * unknown or unfed input, an input dtype tf.Example cannot feed).
 */
export function examplesToTensors(examples: readonly Features[], sig: FeedPlan, model: Signature): TensorMap {
  if (examples.length === 0) {
    throw new ServingError('INVALID_ARGUMENT', `Signature '${sig.name}': the request has no examples`);
  }
  const fed = new Set(sig.feeds.map(([, input]) => input));
  for (const spec of model.inputs) {
    if (!fed.has(spec.name)) {
      throw new ServingError(
        'FAILED_PRECONDITION',
        `Signature '${sig.name}' feeds no feature to model input '${spec.name}'`,
      );
    }
  }
  const out: TensorMap = {};
  for (const [feature, inputName] of sig.feeds) {
    const spec = model.inputs.find((s) => s.name === inputName);
    if (spec === undefined) {
      throw new ServingError(
        'FAILED_PRECONDITION',
        `Signature '${sig.name}' maps feature '${feature}' to input '${inputName}', which the model does not have`,
      );
    }
    out[inputName] = featureTensor(examples, feature, spec, sig.name);
  }
  return out;
}

type Kind = 'float_list' | 'int64_list' | 'bytes_list';

function kindOf(dtype: DType, spec: TensorSpec, signature: string): Kind {
  if (dtype === 'float32' || dtype === 'float64') return 'float_list';
  if (dtype === 'string') return 'bytes_list';
  if (dtype.startsWith('int') || dtype.startsWith('uint')) return 'int64_list';
  throw new ServingError(
    'FAILED_PRECONDITION',
    `Signature '${signature}': input '${spec.name}' has dtype ${dtype}, which no tf.Example feature kind feeds`,
  );
}

function featureTensor(
  examples: readonly Features[],
  feature: string,
  spec: TensorSpec,
  signature: string,
): Tensor {
  const kind = kindOf(spec.dtype, spec, signature);
  const features: Feature[] = examples.map((e, i) => {
    const f = e.get(feature);
    if (f === undefined) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Example ${i} is missing feature '${feature}' (signature '${signature}' feeds it to input '${spec.name}')`,
      );
    }
    if (f.kind !== 'json' && f.kind !== kind) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Feature '${feature}' in example ${i} is a ${f.kind}; input '${spec.name}' (${spec.dtype}) takes a ${kind}`,
      );
    }
    return f;
  });
  const width = features[0].values.length;
  features.forEach((f, i) => {
    if (f.values.length !== width) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Feature '${feature}' has ragged lengths: ${width} values in example 0, ${f.values.length} in example ${i}`,
      );
    }
  });
  const rowShape = rowShapeOf(spec, width, feature);
  const n = examples.length;
  const shape = [n, ...rowShape];
  if (kind === 'bytes_list') {
    const data: Uint8Array[] = [];
    features.forEach((f, i) => {
      for (const v of f.values) data.push(toBytes(v, feature, i, spec));
    });
    return { dtype: 'string', shape, data };
  }
  const dtype = spec.dtype as Exclude<DType, 'string' | 'bool' | 'float16'>;
  if (kind === 'float_list') {
    const data = dtype === 'float64' ? new Float64Array(n * width) : new Float32Array(n * width);
    features.forEach((f, i) => {
      for (let k = 0; k < width; k++) data[i * width + k] = toFloat(f.values[k], feature, i, spec);
    });
    return { dtype, shape, data };
  }
  return { dtype, shape, data: integerData(features, width, feature, spec) };
}

/**
 * The row shape (non-batch dims) `width` values fill: the input's own dims when all are
 * known, one unknown dim inferred from `width`, or `[width]` when the rank is unknown.
 */
function rowShapeOf(spec: TensorSpec, width: number, feature: string): number[] {
  if (spec.shape === null) return [width];
  const rest = spec.shape.slice(1);
  const unknown = rest.filter((d) => d < 0).length;
  const known = rest.reduce((p, d) => (d < 0 ? p : p * d), 1);
  const fits = unknown === 0 ? width === known : unknown === 1 && known > 0 && width % known === 0;
  if (!fits) {
    const needs = unknown === 0 ? `${known}` : `a multiple of ${known}`;
    throw new ServingError(
      'INVALID_ARGUMENT',
      `Feature '${feature}' has ${width} values per example; input '${spec.name}' of shape [${spec.shape.join(',')}] takes ${needs}`,
    );
  }
  return rest.map((d) => (d < 0 ? width / known : d));
}

function wrongValue(v: unknown, feature: string, i: number, spec: TensorSpec, want: string): ServingError {
  const got = typeof v === 'string' ? 'a string' : v instanceof JsonNumber ? v.source : JSON.stringify(v);
  return new ServingError(
    'INVALID_ARGUMENT',
    `Feature '${feature}' in example ${i}: input '${spec.name}' (${spec.dtype}) takes ${want}, got ${got}`,
  );
}

function toFloat(v: unknown, feature: string, i: number, spec: TensorSpec): number {
  if (typeof v === 'number') return v;
  if (v instanceof JsonNumber) return v.value;
  throw wrongValue(v, feature, i, spec, 'numbers (a float_list)');
}

function toBytes(v: unknown, feature: string, i: number, spec: TensorSpec): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (isB64Object(v)) return decodeBase64(v.b64, feature);
  throw wrongValue(v, feature, i, spec, 'strings (a bytes_list)');
}

function toBigInt(v: unknown, feature: string, i: number, spec: TensorSpec): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (v instanceof JsonNumber && v.integral) return BigInt(v.source);
  throw wrongValue(v, feature, i, spec, 'integers (an int64_list)');
}

const INT_RANGES: Record<string, readonly [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  uint64: [0n, 2n ** 64n - 1n],
};

function integerData(features: readonly Feature[], width: number, feature: string, spec: TensorSpec) {
  const dtype = spec.dtype;
  const [lo, hi] = INT_RANGES[dtype];
  const n = features.length * width;
  const data =
    dtype === 'int64'
      ? new BigInt64Array(n)
      : dtype === 'uint64'
        ? new BigUint64Array(n)
        : new (
            {
              int8: Int8Array,
              int16: Int16Array,
              int32: Int32Array,
              uint8: Uint8Array,
              uint16: Uint16Array,
              uint32: Uint32Array,
            } as const
          )[dtype as 'int8'](n);
  features.forEach((f, i) => {
    for (let k = 0; k < width; k++) {
      const b = toBigInt(f.values[k], feature, i, spec);
      if (b < lo || b > hi) {
        throw new ServingError(
          'INVALID_ARGUMENT',
          `Feature '${feature}' in example ${i}: value ${b} is out of range for input '${spec.name}' (${dtype})`,
        );
      }
      if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i * width + k] = b;
      else data[i * width + k] = Number(b);
    }
  });
  return data;
}
