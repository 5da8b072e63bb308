import { readFile } from 'node:fs/promises';
import protobuf from 'protobufjs';
import type { DType } from '../core/dtype.js';
import { ServingError } from '../core/errors.js';
import { isBatchedSignature, PREDICT_METHOD, type Signature, type TensorSpec } from '../core/signature.js';

/** ONNX TensorProto.DataType → our dtype (the element types the runtimes carry). */
const ONNX_DTYPES: Readonly<Record<number, DType>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

type Visit = (field: number, reader: protobuf.Reader, wire: number) => boolean;

/** Walks one message's fields; `visit` returns true when it consumed the field. */
function eachField(bytes: Uint8Array, visit: Visit): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (!visit(field, reader, wire)) reader.skipType(wire);
  }
}

function valueInfo(bytes: Uint8Array): TensorSpec | { name: string; notTensor: true } {
  let name = '';
  let elemType = 0;
  let tensor = false;
  let shape: number[] | undefined;
  eachField(bytes, (f, r, w) => {
    if (f === 1 && w === 2) name = r.string();
    else if (f === 2 && w === 2)
      eachField(r.bytes(), (tf, tr, tw) => {
        if (tf !== 1 || tw !== 2) return false;
        tensor = true;
        eachField(tr.bytes(), (ef, er, ew) => {
          if (ef === 1 && ew === 0) elemType = er.int32();
          else if (ef === 2 && ew === 2) {
            shape = [];
            eachField(er.bytes(), (sf, sr, sw) => {
              if (sf !== 1 || sw !== 2) return false;
              let dim = -1;
              eachField(sr.bytes(), (df, dr, dw) => {
                if (df !== 1 || dw !== 0) return false;
                dim = Number(dr.int64().toString());
                return true;
              });
              shape!.push(dim >= 0 ? dim : -1);
              return true;
            });
          } else return false;
          return true;
        });
        return true;
      });
    else return false;
    return true;
  });
  if (!tensor) return { name, notTensor: true };
  const dtype = ONNX_DTYPES[elemType];
  if (dtype === undefined)
    throw new ServingError(
      'FAILED_PRECONDITION',
      `ONNX tensor '${name}' has unsupported element type ${elemType}`,
    );
  // No shape at all is an unknown rank; ORT reports it as [] too.
  return { name, dtype, shape: shape ?? [] };
}

/**
 * The serving signature of `<path>` (an ONNX model file) read from its protobuf, without
 * creating an inference session: graph inputs that are not initializers, and graph outputs,
 * as onnxruntime would report them (symbolic dims as -1). Used for the metadata of on-demand
 * models that are not resident. Throws FAILED_PRECONDITION for a file that is not an ONNX
 * model or has a non-tensor input or output.
 */
export async function readOnnxSignature(path: string): Promise<Signature> {
  const bytes = await readFile(path);
  try {
    let graph: Uint8Array | undefined;
    eachField(bytes, (f, r, w) => {
      if (f !== 7 || w !== 2) return false;
      graph = r.bytes();
      return true;
    });
    if (graph === undefined) throw new Error('no graph');
    const inputs: TensorSpec[] = [];
    const outputs: TensorSpec[] = [];
    const initializers = new Set<string>();
    eachField(graph, (f, r, w) => {
      if (w !== 2 || (f !== 5 && f !== 11 && f !== 12)) return false;
      const body = r.bytes();
      if (f === 5) {
        eachField(body, (tf, tr, tw) => {
          if (tf !== 8 || tw !== 2) return false;
          initializers.add(tr.string());
          return true;
        });
        return true;
      }
      const spec = valueInfo(body);
      if ('notTensor' in spec)
        throw new ServingError('FAILED_PRECONDITION', `ONNX value '${spec.name}' is not a tensor`);
      (f === 11 ? inputs : outputs).push(spec);
      return true;
    });
    const served = inputs.filter((s) => !initializers.has(s.name));
    return {
      inputs: served,
      outputs,
      batched: isBatchedSignature(served, outputs),
      methodName: PREDICT_METHOD,
    };
  } catch (err) {
    if (err instanceof ServingError) throw err;
    throw new ServingError(
      'FAILED_PRECONDITION',
      `Cannot read the ONNX model ${path}: ${(err as Error).message}`,
    );
  }
}
