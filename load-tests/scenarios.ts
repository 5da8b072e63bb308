/**
 * Request builders for the load tests: one set of input tensors becomes a TF Serving REST
 * JSON body, a KServe v2 JSON body, a KServe v2 binary-extension body, a TF Serving gRPC
 * PredictRequest (tensor_content) or a KServe v2 gRPC ModelInferRequest (raw_input_contents).
 * Every builder is deterministic: the same inputs give the same bytes.
 */

/** One input, values flat in row-major order; `datatype` is KServe v2's name (FP32, INT64, ...). */
export interface InputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

/** An HTTP request ready for a load generator. */
export interface RequestSpec {
  readonly method: 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export const PROTOCOLS = ['rest-json', 'v2-json', 'v2-binary', 'grpc-predict', 'grpc-infer'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

interface DtypeInfo {
  readonly bytes: number;
  readonly tf: string;
  write(buf: Buffer, value: number, offset: number): void;
}

const DTYPES: Record<string, DtypeInfo> = {
  FP32: { bytes: 4, tf: 'DT_FLOAT', write: (b, v, o) => b.writeFloatLE(v, o) },
  FP64: { bytes: 8, tf: 'DT_DOUBLE', write: (b, v, o) => b.writeDoubleLE(v, o) },
  INT8: { bytes: 1, tf: 'DT_INT8', write: (b, v, o) => b.writeInt8(v, o) },
  INT16: { bytes: 2, tf: 'DT_INT16', write: (b, v, o) => b.writeInt16LE(v, o) },
  INT32: { bytes: 4, tf: 'DT_INT32', write: (b, v, o) => b.writeInt32LE(v, o) },
  INT64: { bytes: 8, tf: 'DT_INT64', write: (b, v, o) => b.writeBigInt64LE(BigInt(v), o) },
  UINT8: { bytes: 1, tf: 'DT_UINT8', write: (b, v, o) => b.writeUInt8(v, o) },
  UINT16: { bytes: 2, tf: 'DT_UINT16', write: (b, v, o) => b.writeUInt16LE(v, o) },
  UINT32: { bytes: 4, tf: 'DT_UINT32', write: (b, v, o) => b.writeUInt32LE(v, o) },
  UINT64: { bytes: 8, tf: 'DT_UINT64', write: (b, v, o) => b.writeBigUInt64LE(BigInt(v), o) },
  BOOL: { bytes: 1, tf: 'DT_BOOL', write: (b, v, o) => b.writeUInt8(v ? 1 : 0, o) },
};

function dtypeInfo(datatype: string): DtypeInfo {
  const info = DTYPES[datatype];
  if (!info)
    throw new Error(
      `datatype ${datatype} is not supported by the load generator; give --input with a supported one`,
    );
  return info;
}

/** Deterministic uniform [0, 1) generator (an LCG), so every run sends the same bytes. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `batch` 28×28×1 images for the example CNN (`image` float32 [-1,28,28,1]), float32-exact values. */
export function cnnImage(batch = 1, seed = 42): InputTensor {
  return randomInput('image', 'FP32', [batch, 28, 28, 1], seed);
}

/** Random values of the right kind for a datatype: [0,1) floats, small integers, 0/1 booleans. */
export function randomInput(
  name: string,
  datatype: string,
  shape: readonly number[],
  seed = 42,
): InputTensor {
  dtypeInfo(datatype);
  const rand = lcg(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Array<number>(n);
  const isFloat = datatype.startsWith('FP');
  for (let i = 0; i < n; i++) {
    const r = rand();
    values[i] = isFloat ? Math.fround(r) : datatype === 'BOOL' ? (r < 0.5 ? 0 : 1) : Math.floor(r * 10);
  }
  return { name, datatype, shape, values };
}

/** KServe v2 model metadata as `GET /v2/models/<m>` returns it. */
export interface ModelMetadata {
  readonly name: string;
  readonly inputs: readonly { name: string; datatype: string; shape: readonly number[] }[];
}

/**
 * Random batch-1 inputs for a model's metadata. The leading -1 becomes 1; any other -1
 * needs an entry in `shapes` (input name → full shape) and throws otherwise.
 */
export function inputsFromMetadata(
  meta: ModelMetadata,
  shapes: ReadonlyMap<string, readonly number[]> = new Map(),
  seed = 42,
): InputTensor[] {
  return meta.inputs.map((input, i) => {
    const shape = shapes.get(input.name) ?? input.shape.map((d, axis) => (d === -1 && axis === 0 ? 1 : d));
    if (shape.some((d) => d < 0))
      throw new Error(
        `input ${input.name} has variable dims ${JSON.stringify(input.shape)}; give --shape ${input.name}=<dims>`,
      );
    return randomInput(input.name, input.datatype, shape, seed + i);
  });
}

/** Inputs from a KServe v2 JSON inference request (`{"inputs": [{name, datatype, shape, data}]}`). */
export function inputsFromV2Json(json: unknown): InputTensor[] {
  const inputs = (json as { inputs?: unknown }).inputs;
  if (!Array.isArray(inputs)) throw new Error('--input must hold a KServe v2 request: {"inputs": [...]}');
  return inputs.map((raw) => {
    const t = raw as { name: string; datatype: string; shape: number[]; data: unknown };
    const values = (Array.isArray(t.data) ? t.data.flat(Infinity) : []).map((v) =>
      v === true ? 1 : Number(v),
    );
    dtypeInfo(t.datatype);
    return { name: t.name, datatype: t.datatype, shape: t.shape, values };
  });
}

/** Little-endian row-major bytes of a tensor. */
export function tensorBytes(t: InputTensor): Buffer {
  const info = dtypeInfo(t.datatype);
  const buf = Buffer.alloc(t.values.length * info.bytes);
  for (let i = 0; i < t.values.length; i++) info.write(buf, t.values[i], i * info.bytes);
  return buf;
}

function jsonValues(t: InputTensor): (number | boolean)[] {
  return t.datatype === 'BOOL' ? t.values.map((v) => v !== 0) : [...t.values];
}

function nest(flat: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return flat;
  const [, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < flat.length; i += step) out.push(nest(flat.slice(i, i + step), rest));
  return out;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** TF Serving REST `POST /v1/models/<m>:predict` with `{"instances": [...]}` (row format). */
export function tfsJsonRequest(model: string, inputs: readonly InputTensor[]): RequestSpec {
  const rows = inputs[0].shape[0];
  const perInput = inputs.map((t) => nest(jsonValues(t), t.shape) as unknown[]);
  const instances =
    inputs.length === 1
      ? perInput[0]
      : Array.from({ length: rows }, (_, r) =>
          Object.fromEntries(inputs.map((t, i) => [t.name, perInput[i][r]])),
        );
  return {
    method: 'POST',
    path: `/v1/models/${model}:predict`,
    headers: JSON_HEADERS,
    body: Buffer.from(JSON.stringify({ instances })),
  };
}

/** KServe v2 REST `POST /v2/models/<m>/infer` with flat `data` per input. */
export function v2JsonRequest(model: string, inputs: readonly InputTensor[]): RequestSpec {
  const body = {
    inputs: inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, data: jsonValues(t) })),
  };
  return {
    method: 'POST',
    path: `/v2/models/${model}/infer`,
    headers: JSON_HEADERS,
    body: Buffer.from(JSON.stringify(body)),
  };
}

/** KServe v2 binary extension: JSON header, then each input's raw bytes; outputs asked for as binary. */
export function v2BinaryRequest(model: string, inputs: readonly InputTensor[]): RequestSpec {
  const raws = inputs.map(tensorBytes);
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((t, i) => ({
        name: t.name,
        shape: t.shape,
        datatype: t.datatype,
        parameters: { binary_data_size: raws[i].length },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  return {
    method: 'POST',
    path: `/v2/models/${model}/infer`,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    },
    body: Buffer.concat([header, ...raws]),
  };
}

/** `tensorflow.serving.PredictRequest` (proto-loader object form) with `tensor_content`. */
export function predictRequest(model: string, inputs: readonly InputTensor[]): Record<string, unknown> {
  return {
    model_spec: { name: model },
    inputs: Object.fromEntries(
      inputs.map((t) => [
        t.name,
        {
          dtype: dtypeInfo(t.datatype).tf,
          tensor_shape: { dim: t.shape.map((size) => ({ size: String(size) })) },
          tensor_content: tensorBytes(t),
        },
      ]),
    ),
  };
}

/** `inference.ModelInferRequest` (proto-loader object form) with `raw_input_contents`. */
export function modelInferRequest(model: string, inputs: readonly InputTensor[]): Record<string, unknown> {
  return {
    model_name: model,
    inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(String) })),
    raw_input_contents: inputs.map(tensorBytes),
  };
}

/** The REST request for an HTTP protocol. */
export function restRequest(protocol: Protocol, model: string, inputs: readonly InputTensor[]): RequestSpec {
  switch (protocol) {
    case 'rest-json':
      return tfsJsonRequest(model, inputs);
    case 'v2-json':
      return v2JsonRequest(model, inputs);
    case 'v2-binary':
      return v2BinaryRequest(model, inputs);
    default:
      throw new Error(`${protocol} is not an HTTP protocol`);
  }
}
