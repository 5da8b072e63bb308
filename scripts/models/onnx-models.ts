import { DTYPES } from '../../src/core/dtype.js';
import { CNN, CNN_FLAT, type CnnWeights, convKernelToOihw } from './cnn-weights.js';
import { type ElemType, encodeModel, initializer, node, valueInfo } from './onnx-builder.js';

const B = 'batch';

/** y = 0.5 * x + 2, x and y float32 [batch]. TF Serving's classic test model. */
export function halfPlusTwoOnnx(): Uint8Array {
  return encodeModel({
    name: 'half_plus_two',
    doc: 'y = 0.5 * x + 2',
    inputs: [valueInfo('x', 'float32', [B])],
    outputs: [valueInfo('y', 'float32', [B])],
    initializers: [
      initializer('half', [], new Float32Array([0.5])),
      initializer('two', [], new Float32Array([2])),
    ],
    nodes: [node('Mul', ['x', 'half'], ['x_half']), node('Add', ['x_half', 'two'], ['y'])],
  });
}

/**
 * The CNN of cnn-weights.ts on NHWC input. ONNX Conv/MaxPool are NCHW, so the graph
 * transposes in, and back to NHWC before Flatten so the flatten order matches Keras'.
 */
export function cnnOnnx(w: CnnWeights): Uint8Array {
  const { kernel: k, filters, channels, classes, pool } = CNN;
  return encodeModel({
    name: 'cnn',
    doc: 'image NHWC [N,28,28,1] -> conv3x3x8 relu -> maxpool2 -> flatten -> dense10 -> softmax',
    inputs: [valueInfo('image', 'float32', [B, CNN.height, CNN.width, channels])],
    outputs: [valueInfo('probabilities', 'float32', [B, classes])],
    initializers: [
      initializer('conv_w', [filters, channels, k, k], convKernelToOihw(w.convKernel)),
      initializer('conv_b', [filters], w.convBias),
      initializer('dense_w', [CNN_FLAT, classes], w.denseKernel),
      initializer('dense_b', [classes], w.denseBias),
    ],
    nodes: [
      node('Transpose', ['image'], ['image_nchw'], { perm: [0, 3, 1, 2] }),
      node('Conv', ['image_nchw', 'conv_w', 'conv_b'], ['conv'], { kernel_shape: [k, k] }),
      node('Relu', ['conv'], ['conv_relu']),
      node('MaxPool', ['conv_relu'], ['pooled'], { kernel_shape: [pool, pool], strides: [pool, pool] }),
      node('Transpose', ['pooled'], ['pooled_nhwc'], { perm: [0, 2, 3, 1] }),
      node('Flatten', ['pooled_nhwc'], ['flat'], { axis: 1 }),
      node('MatMul', ['flat', 'dense_w'], ['logits_nobias']),
      node('Add', ['logits_nobias', 'dense_b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: -1 }),
    ],
  });
}

/**
 * Several named inputs and outputs of different dtypes. Inputs: `a`, `b` float32 [N,3],
 * `scale` float32 [N,1]. Outputs:
 * - `sum` float32 [N,3] = a + b
 * - `weighted` float32 [N,3] = (a - b) * scale (scale broadcast along the row)
 * - `greater` bool [N,3] = a > b
 * - `count` int64 [N] = number of elements of the row where a > b
 */
export function multiIoOnnx(): Uint8Array {
  return encodeModel({
    name: 'multi_io',
    doc: 'sum = a + b; weighted = (a - b) * scale; greater = a > b; count = per-row count of a > b',
    inputs: [
      valueInfo('a', 'float32', [B, 3]),
      valueInfo('b', 'float32', [B, 3]),
      valueInfo('scale', 'float32', [B, 1]),
    ],
    outputs: [
      valueInfo('sum', 'float32', [B, 3]),
      valueInfo('weighted', 'float32', [B, 3]),
      valueInfo('greater', 'bool', [B, 3]),
      valueInfo('count', 'int64', [B]),
    ],
    initializers: [initializer('row_axis', [1], new BigInt64Array([1n]))],
    nodes: [
      node('Add', ['a', 'b'], ['sum']),
      node('Sub', ['a', 'b'], ['diff']),
      node('Mul', ['diff', 'scale'], ['weighted']),
      node('Greater', ['a', 'b'], ['greater']),
      // TensorProto.DataType.INT64 = 7
      node('Cast', ['greater'], ['greater_i64'], { to: 7 }),
      node('ReduceSum', ['greater_i64', 'row_axis'], ['count'], { keepdims: 0 }),
    ],
  });
}

/** Every element type the runtimes carry, in the order `identity_dtypes` lists them. */
export const IDENTITY_DTYPES: readonly ElemType[] = DTYPES;

/** IDENTITY_DTYPES without float16: the dtypes KServe typed contents and JSON can carry. */
export const TYPED_CONTENT_DTYPES: readonly ElemType[] = IDENTITY_DTYPES.filter((d) => d !== 'float16');

/**
 * One Identity per element type: `in_<dtype>` [N,2] → `out_<dtype>` [N,2]. Lets the wire
 * tests round-trip every dtype through a real runtime (`identity_dtypes`: all of them;
 * `identity_no_fp16`: without float16, which KServe gRPC typed contents and v2 JSON cannot
 * carry, so a request can feed every input that way).
 */
export function identityOnnx(name: string, dtypes: readonly ElemType[]): Uint8Array {
  return encodeModel({
    name,
    doc: `out_<dtype> = in_<dtype> for ${dtypes.join(', ')}`,
    inputs: dtypes.map((d) => valueInfo(`in_${d}`, d, [B, 2])),
    outputs: dtypes.map((d) => valueInfo(`out_${d}`, d, [B, 2])),
    initializers: [],
    nodes: dtypes.map((d) => node('Identity', [`in_${d}`], [`out_${d}`])),
  });
}

/** The classes of `point_classifier`, in score order, and the centre each one is nearest to. */
export const POINT_CLASSES: readonly {
  readonly label: string;
  readonly centre: readonly [number, number];
}[] = [
  { label: 'north', centre: [0, 2] },
  { label: 'south_west', centre: [-2, -1] },
  { label: 'south_east', centre: [2, -1] },
];

/**
 * A multi-class classifier: which of POINT_CLASSES' centres a 2-D point is nearest to.
 * `point` float32 [N,2] → dense 4 + ReLU → dense 3 → softmax `probabilities` [N,3].
 * The weights are set, not trained: the hidden layer holds relu(p) and relu(-p) (so p is
 * recovered exactly), and logit k = 2·c_k·p − |c_k|², which orders classes like −|p − c_k|²
 * (softmax ignores the −|p|² they share). So the top class is the nearest centre.
 */
export function pointClassifierOnnx(): Uint8Array {
  const w1 = new Float32Array([1, 0, -1, 0, 0, 1, 0, -1]); // [2,4]: x → (x, -x), y → (y, -y)
  const k = POINT_CLASSES.length;
  const w2 = new Float32Array(4 * k); // [4,k]
  const b2 = new Float32Array(k);
  POINT_CLASSES.forEach(({ centre: [cx, cy] }, j) => {
    w2[0 * k + j] = 2 * cx;
    w2[1 * k + j] = 2 * cy;
    w2[2 * k + j] = -2 * cx;
    w2[3 * k + j] = -2 * cy;
    b2[j] = -(cx * cx + cy * cy);
  });
  return encodeModel({
    name: 'point_classifier',
    doc: 'point [N,2] -> dense4 relu -> dense3 -> softmax: nearest of three centres',
    inputs: [valueInfo('point', 'float32', [B, 2])],
    outputs: [valueInfo('probabilities', 'float32', [B, k])],
    initializers: [
      initializer('w1', [2, 4], w1),
      initializer('b1', [4], new Float32Array(4)),
      initializer('w2', [4, k], w2),
      initializer('b2', [k], b2),
    ],
    nodes: [
      node('MatMul', ['point', 'w1'], ['h_nobias']),
      node('Add', ['h_nobias', 'b1'], ['h_pre']),
      node('Relu', ['h_pre'], ['h']),
      node('MatMul', ['h', 'w2'], ['logits_nobias']),
      node('Add', ['logits_nobias', 'b2'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: -1 }),
    ],
  });
}
