import * as tf from '@tensorflow/tfjs';
import { CNN, type CnnWeights } from './cnn-weights.js';

/** A TF.js model as files: `model.json` plus its weight shards, by file name. */
export interface TfjsFiles {
  readonly modelJson: string;
  readonly shards: Record<string, Uint8Array>;
}

const SHARD = 'group1-shard1of1.bin';
const GENERATED_BY = 'tensorserve generate-models';

const shape1d = { dim: [{ size: '-1' }] };
const floatAttr = { type: 'DT_FLOAT' };

/**
 * y = 0.5 * x + 2 as a TF.js graph model, written as the converter would: a GraphDef
 * topology (Placeholder x, Const, Mul, AddV2, Identity y), Const values in the weights
 * manifest, and a serving signature keyed `x` / `y`.
 */
export function halfPlusTwoTfjs(): TfjsFiles {
  const constNode = (name: string) => ({
    name,
    op: 'Const',
    attr: { dtype: floatAttr, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: {} } } },
  });
  const modelJson = {
    format: 'graph-model',
    generatedBy: GENERATED_BY,
    convertedBy: GENERATED_BY,
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: floatAttr, shape: { shape: shape1d } } },
        constNode('half'),
        constNode('two'),
        { name: 'mul', op: 'Mul', input: ['x', 'half'], attr: { T: floatAttr } },
        { name: 'add', op: 'AddV2', input: ['mul', 'two'], attr: { T: floatAttr } },
        { name: 'y', op: 'Identity', input: ['add'], attr: { T: floatAttr } },
      ],
      library: {},
      versions: { producer: 1286 },
    },
    weightsManifest: [
      {
        paths: [SHARD],
        weights: [
          { name: 'half', shape: [], dtype: 'float32' },
          { name: 'two', shape: [], dtype: 'float32' },
        ],
      },
    ],
    signature: {
      inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: shape1d } },
      outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: shape1d } },
    },
  };
  const weights = new Float32Array([0.5, 2]);
  return {
    modelJson: `${JSON.stringify(modelJson, null, 2)}\n`,
    shards: { [SHARD]: new Uint8Array(weights.buffer) },
  };
}

/**
 * `multi_io` as a TF.js graph model, written as the converter writes a SavedModel with
 * several named inputs and outputs: the signature maps the client-facing keys to graph
 * tensors, and the outputs are `Identity`, `Identity_1`, ... numbered in sorted key order
 * (count, greater, sum, weighted), so `sum` is `Identity_2:0`: names are not positional.
 * `count` is DT_INT64 in the graph and signature; tfjs computes it as int32 (it has no
 * int64) and the runtime widens it back to int64 because the signature says so.
 */
export function multiIoTfjs(): TfjsFiles {
  const rows3 = { dim: [{ size: '-1' }, { size: '3' }] };
  const rows1 = { dim: [{ size: '-1' }, { size: '1' }] };
  const rows = { dim: [{ size: '-1' }] };
  const placeholder = (name: string, shape: object) => ({
    name,
    op: 'Placeholder',
    attr: { dtype: floatAttr, shape: { shape } },
  });
  const identity = (name: string, input: string, type: string) => ({
    name,
    op: 'Identity',
    input: [input],
    attr: { T: { type } },
  });
  const entry = (name: string, dtype: string, tensorShape: object) => ({ name, dtype, tensorShape });
  const modelJson = {
    format: 'graph-model',
    generatedBy: GENERATED_BY,
    convertedBy: GENERATED_BY,
    modelTopology: {
      node: [
        placeholder('a', rows3),
        placeholder('b', rows3),
        placeholder('scale', rows1),
        {
          name: 'row_axis',
          op: 'Const',
          attr: {
            dtype: { type: 'DT_INT32' },
            value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '1' }] } } },
          },
        },
        { name: 'add', op: 'AddV2', input: ['a', 'b'], attr: { T: floatAttr } },
        { name: 'sub', op: 'Sub', input: ['a', 'b'], attr: { T: floatAttr } },
        { name: 'mul', op: 'Mul', input: ['sub', 'scale'], attr: { T: floatAttr } },
        { name: 'greater', op: 'Greater', input: ['a', 'b'], attr: { T: floatAttr } },
        {
          name: 'cast',
          op: 'Cast',
          input: ['greater'],
          attr: { SrcT: { type: 'DT_BOOL' }, DstT: { type: 'DT_INT64' }, Truncate: { b: false } },
        },
        {
          name: 'count',
          op: 'Sum',
          input: ['cast', 'row_axis'],
          attr: { T: { type: 'DT_INT64' }, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } },
        },
        identity('Identity', 'count', 'DT_INT64'),
        identity('Identity_1', 'greater', 'DT_BOOL'),
        identity('Identity_2', 'add', 'DT_FLOAT'),
        identity('Identity_3', 'mul', 'DT_FLOAT'),
      ],
      library: {},
      versions: { producer: 1286 },
    },
    weightsManifest: [{ paths: [SHARD], weights: [{ name: 'row_axis', shape: [1], dtype: 'int32' }] }],
    signature: {
      inputs: {
        a: entry('a:0', 'DT_FLOAT', rows3),
        b: entry('b:0', 'DT_FLOAT', rows3),
        scale: entry('scale:0', 'DT_FLOAT', rows1),
      },
      outputs: {
        sum: entry('Identity_2:0', 'DT_FLOAT', rows3),
        weighted: entry('Identity_3:0', 'DT_FLOAT', rows3),
        greater: entry('Identity_1:0', 'DT_BOOL', rows3),
        count: entry('Identity:0', 'DT_INT64', rows),
      },
    },
  };
  const weights = new Int32Array([1]);
  return {
    modelJson: `${JSON.stringify(modelJson, null, 2)}\n`,
    shards: { [SHARD]: new Uint8Array(weights.buffer) },
  };
}

/** The CNN of cnn-weights.ts as a Keras-style layers model (NHWC, as TF). */
export async function cnnTfjs(w: CnnWeights): Promise<TfjsFiles> {
  const model = tf.sequential({
    name: 'cnn',
    layers: [
      tf.layers.inputLayer({ name: 'image', inputShape: [CNN.height, CNN.width, CNN.channels] }),
      tf.layers.conv2d({ name: 'conv', kernelSize: CNN.kernel, filters: CNN.filters, activation: 'relu' }),
      tf.layers.maxPooling2d({ name: 'pool', poolSize: CNN.pool, strides: CNN.pool }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ name: 'probabilities', units: CNN.classes, activation: 'softmax' }),
    ],
  });
  const values = [
    tf.tensor4d(w.convKernel, [CNN.kernel, CNN.kernel, CNN.channels, CNN.filters]),
    tf.tensor1d(w.convBias),
    tf.tensor2d(w.denseKernel, [w.denseKernel.length / CNN.classes, CNN.classes]),
    tf.tensor1d(w.denseBias),
  ];
  model.getLayer('conv').setWeights(values.slice(0, 2));
  model.getLayer('probabilities').setWeights(values.slice(2));
  tf.dispose(values);

  let files: TfjsFiles | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData ?? new ArrayBuffer(0);
      const joined = tf.io.CompositeArrayBuffer.join(data);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: GENERATED_BY,
        weightsManifest: [{ paths: [SHARD], weights: artifacts.weightSpecs ?? [] }],
      };
      files = {
        modelJson: `${JSON.stringify(modelJson, null, 2)}\n`,
        shards: { [SHARD]: new Uint8Array(joined) },
      };
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  if (!files) throw new Error('tfjs did not call the save handler');
  return files;
}
