import { readFile } from 'node:fs/promises';
import type { DType } from '../core/dtype.js';
import { errorMessage, ServingError } from '../core/errors.js';
import { isBatchedSignature, PREDICT_METHOD, type Signature, type TensorSpec } from '../core/signature.js';

/**
 * TF.js signatures without TF.js: dtype and shape names of model.json and tfjs tensors mapped
 * to ours, and a graph model's `signature` read from its model.json alone (no weights, no
 * backend), for the metadata of on-demand versions that are not resident (issue 12). The tfjs
 * runtime builds its loaded signatures with the same functions, so both agree.
 */

/** TF DataType names (model.json signatures) → our dtypes. */
const TF_DTYPES: Record<string, DType> = {
  DT_FLOAT: 'float32',
  DT_DOUBLE: 'float64',
  DT_HALF: 'float16',
  DT_INT8: 'int8',
  DT_INT16: 'int16',
  DT_INT32: 'int32',
  DT_INT64: 'int64',
  DT_UINT8: 'uint8',
  DT_UINT16: 'uint16',
  DT_UINT32: 'uint32',
  DT_UINT64: 'uint64',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
};

/** A tfjs dtype name (`float32`, `int32`, `bool`, `string`) or a TF `DT_*` name → ours. */
export function dtypeFromTf(name: string | undefined): DType {
  if (name === undefined) return 'float32';
  if (name in TF_DTYPES) return TF_DTYPES[name];
  if (name === 'float32' || name === 'int32' || name === 'bool' || name === 'string') return name;
  throw new ServingError('FAILED_PRECONDITION', `Unsupported TF.js dtype ${name}`);
}

/** A signature entry; null (unknown) dims become -1, an unknown rank `null`. */
export function tfSpec(
  name: string,
  dtype: string | undefined,
  shape: readonly (number | null)[] | undefined,
): TensorSpec {
  return {
    name: stripPort(name),
    dtype: dtypeFromTf(dtype),
    shape: shape ? shape.map((d) => (d === null || d < 0 ? -1 : d)) : null,
  };
}

/** `x:0` → `x`: tfjs graph inputs and outputs are named by node, TF tensors by node:port. */
export function stripPort(name: string): string {
  return name.replace(/:0$/, '');
}

/** A TF signature entry as written in a graph model's model.json. */
export interface TfSignatureEntry {
  readonly name?: string;
  readonly dtype?: string;
  readonly tensorShape?: {
    readonly dim?: readonly { readonly size?: string | number }[];
    readonly unknownRank?: boolean;
  };
}

/** Graph-model signatures are keyed by the names clients use; `name` is the `node:0` tensor. */
export function specsFromTfSignature(entries: Record<string, TfSignatureEntry>): TensorSpec[] {
  return Object.entries(entries).map(([key, e]) => {
    const shape = e.tensorShape?.unknownRank
      ? undefined
      : (e.tensorShape?.dim ?? []).map((d) => Number(d.size ?? -1));
    return tfSpec(key, e.dtype, shape);
  });
}

/** Inputs and outputs as one signature (Predict; batched when every leading dim is -1). */
export function tfSignatureOf(inputs: TensorSpec[], outputs: TensorSpec[]): Signature {
  return { inputs, outputs, batched: isBatchedSignature(inputs, outputs), methodName: PREDICT_METHOD };
}

/**
 * The serving signature of a TF.js graph model read from `<path>` (its model.json) alone: the
 * `signature` block's inputs and outputs, as a load would report them. Undefined when the file
 * does not carry both (a layers model, whose inputs come from its Keras topology, or a graph
 * model without `signature`, whose inputs come from the graph): those need a load. Throws
 * FAILED_PRECONDITION naming the file when it cannot be read or is not JSON.
 */
export async function readTfjsSignature(path: string): Promise<Signature | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ServingError(
      'FAILED_PRECONDITION',
      `Cannot read the TF.js model ${path}: ${errorMessage(err)}`,
    );
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { format, modelTopology, signature } = json as {
    format?: unknown;
    modelTopology?: unknown;
    signature?: { inputs?: unknown; outputs?: unknown };
  };
  const keras = typeof modelTopology === 'object' && modelTopology !== null && 'class_name' in modelTopology;
  if (format === 'layers-model' || keras) return undefined;
  const isEntries = (v: unknown): v is Record<string, TfSignatureEntry> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isEntries(signature?.inputs) || !isEntries(signature.outputs)) return undefined;
  return tfSignatureOf(specsFromTfSignature(signature.inputs), specsFromTfSignature(signature.outputs));
}
