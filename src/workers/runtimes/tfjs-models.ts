import * as tf from '@tensorflow/tfjs';
import { errorMessage, ServingError } from '../../core/errors.js';
import type { Signature, TensorSpec } from '../../core/signature.js';
import type { TensorMap } from '../../core/tensor.js';
import type { LoadedModel } from '../runtime.js';
import type { TfSavedModel } from './tfjs-backend.js';
import { fromTfTensor, toTfTensor } from './tfjs-tensors.js';

/** tfjs messages that mean the request is wrong (shapes, dtypes, missing inputs). */
const CLIENT_ERROR = /shape|dtype|must be|expected|missing|not part of|rank/i;

/** How one tfjs model format computes outputs; the tensors it returns are the caller's. */
type Execute = (feed: tf.NamedTensorMap, outputNames: readonly string[]) => Promise<tf.NamedTensorMap>;

/**
 * A tfjs model (graph, layers or SavedModel) behind the LoadedModel contract. Inputs are
 * wrapped as tfjs tensors, outputs read into standalone typed arrays, and every tensor the
 * call created is disposed before `run` settles.
 */
export class TfjsModel implements LoadedModel {
  readonly #inputs: ReadonlyMap<string, TensorSpec>;
  readonly #outputs: ReadonlyMap<string, TensorSpec>;

  constructor(
    readonly signature: Signature,
    readonly memoryBytes: number | undefined,
    private readonly execute: Execute,
    private readonly release: () => void,
    /** Whether outputs must be copied out of the backend's storage (all but wasm). */
    private readonly copyOutputs: boolean,
  ) {
    this.#inputs = new Map(signature.inputs.map((s) => [s.name, s]));
    this.#outputs = new Map(signature.outputs.map((s) => [s.name, s]));
  }

  async run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    const names = outputNames.length > 0 ? outputNames : [...this.#outputs.keys()];
    for (const name of names) {
      if (!this.#outputs.has(name)) throw new ServingError('INVALID_ARGUMENT', `Unknown output '${name}'`);
    }
    for (const name of this.#inputs.keys()) {
      if (!(name in inputs)) throw new ServingError('INVALID_ARGUMENT', `Missing input '${name}'`);
    }
    const feed: tf.NamedTensorMap = {};
    let results: tf.NamedTensorMap = {};
    try {
      for (const [name, tensor] of Object.entries(inputs)) {
        if (!this.#inputs.has(name)) throw new ServingError('INVALID_ARGUMENT', `Unknown input '${name}'`);
        feed[name] = toTfTensor(name, tensor);
      }
      results = await this.execute(feed, names);
      const out: TensorMap = {};
      for (const name of names)
        out[name] = fromTfTensor(results[name], this.#outputs.get(name), this.copyOutputs);
      return out;
    } catch (err) {
      if (err instanceof ServingError) throw err;
      const msg = errorMessage(err);
      if (CLIENT_ERROR.test(msg)) throw new ServingError('INVALID_ARGUMENT', msg, { cause: err });
      throw new ServingError('INTERNAL', `TF.js failed: ${msg}`, { cause: err });
    } finally {
      tf.dispose(Object.values(feed));
      tf.dispose(Object.values(results));
    }
  }

  async dispose(): Promise<void> {
    this.release();
  }
}

/** Graph model: sync `execute` unless the graph has control flow, then `executeAsync`. */
export function graphExecute(model: tf.GraphModel): Execute {
  let useAsync = false;
  return async (feed, names) => {
    if (!useAsync) {
      try {
        return byName(names, model.execute(feed, [...names]));
      } catch (err) {
        if (!/executeAsync/.test(errorMessage(err))) throw err;
        useAsync = true;
      }
    }
    return byName(names, await model.executeAsync(feed, [...names]));
  };
}

/**
 * Layers model: inputs and outputs are named after their Keras layers (Sequential models
 * leave `inputNames`/`outputNames` empty, so the names come from the symbolic tensors).
 */
export function layersExecute(model: tf.LayersModel): Execute {
  const inputNames = model.inputs.map((t) => t.sourceLayer.name);
  const outputNames = model.outputs.map((t) => t.sourceLayer.name);
  return async (feed, names) => {
    const all = tf.tidy(() => model.predict(inputNames.map((n) => feed[n])));
    const byOutput = byName(outputNames, all);
    const picked: tf.NamedTensorMap = {};
    for (const [name, t] of Object.entries(byOutput)) {
      if (names.includes(name)) picked[name] = t;
      else t.dispose();
    }
    return picked;
  };
}

/** tfjs-node SavedModel: `predict` on a named map. */
export function savedModelExecute(model: TfSavedModel): Execute {
  const outputNames = model.outputs.map((o) => o.name);
  return async (feed, names) => {
    const result = model.predict(feed);
    const all = result instanceof tf.Tensor || Array.isArray(result) ? byName(outputNames, result) : result;
    const picked: tf.NamedTensorMap = {};
    for (const [name, t] of Object.entries(all)) {
      if (names.includes(name)) picked[name] = t;
      else t.dispose();
    }
    return picked;
  };
}

function byName(names: readonly string[], result: tf.Tensor | tf.Tensor[]): tf.NamedTensorMap {
  const list = Array.isArray(result) ? result : [result];
  const out: tf.NamedTensorMap = {};
  names.forEach((name, i) => {
    out[name] = list[i];
  });
  return out;
}
