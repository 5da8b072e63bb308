import onnxProto from 'onnx-proto';
import type { DType } from '../../src/core/dtype.js';

/**
 * Small helpers over onnx-proto's ModelProto so the example models read like graphs.
 * Everything is encoded from plain objects; protobuf encoding is deterministic, so the
 * same graph always yields the same bytes.
 */
export const { onnx } = onnxProto;

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

/** ONNX element types the generated models use: tensorserve's own dtype names. */
export type ElemType = DType;

const T = onnx.TensorProto.DataType;
const ELEM: Record<ElemType, number> = {
  float32: T.FLOAT,
  float64: T.DOUBLE,
  float16: T.FLOAT16,
  int8: T.INT8,
  int16: T.INT16,
  int32: T.INT32,
  int64: T.INT64,
  uint8: T.UINT8,
  uint16: T.UINT16,
  uint32: T.UINT32,
  uint64: T.UINT64,
  bool: T.BOOL,
  string: T.STRING,
};

/** A dim is a fixed size or a symbolic name (`batch`). */
export type Dim = number | string;

export function valueInfo(
  name: string,
  elem: ElemType,
  dims: readonly Dim[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** An initializer stored as little-endian raw bytes (how exporters write weights). */
export function initializer(
  name: string,
  dims: readonly number[],
  values: Float32Array | BigInt64Array,
): onnxProto.onnx.ITensorProto {
  const elem: ElemType = values instanceof Float32Array ? 'float32' : 'int64';
  return {
    name,
    dataType: ELEM[elem],
    dims: [...dims],
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice(),
  };
}

type AttrValue = number | readonly number[];

/** One node; integer attributes become INT/INTS (all the example graphs need). */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Record<string, AttrValue> = {},
): onnxProto.onnx.INodeProto {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    typeof v === 'number'
      ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v }
      : { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...v] },
  );
  return { name: `${outputs[0]}_${opType}`, opType, input: [...inputs], output: [...outputs], attribute };
}

export interface GraphSpec {
  readonly name: string;
  readonly doc: string;
  readonly inputs: onnxProto.onnx.IValueInfoProto[];
  readonly outputs: onnxProto.onnx.IValueInfoProto[];
  readonly initializers: onnxProto.onnx.ITensorProto[];
  readonly nodes: onnxProto.onnx.INodeProto[];
}

/** Encodes a graph as a ModelProto (ir_version 8, default-domain opset 13). */
export function encodeModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    producerName: 'tensorserve-generate-models',
    producerVersion: '1',
    docString: spec.doc,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: spec.name,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers,
      node: spec.nodes,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
