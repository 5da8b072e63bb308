import * as tf from '@tensorflow/tfjs';
import { errorMessage, ServingError } from '../../core/errors.js';
import type { LoadedModel, LoadOptions, Runtime } from '../runtime.js';
import {
  tfSignatureOf as signatureOf,
  specsFromTfSignature,
  type TfSignatureEntry,
  tfSpec,
} from '../tfjs-signature.js';
import { consoleLogger, type RuntimeLogger } from '../worker-log.js';
import { parseDevice } from './device.js';
import { readTfjsArtifacts } from './tfjs-artifacts.js';
import { initTfjsBackend, type TfjsBackend } from './tfjs-backend.js';
import { graphExecute, layersExecute, savedModelExecute, TfjsModel } from './tfjs-models.js';

/**
 * Serves TF.js models (`platform: 'tfjs'`, a model.json graph or layers model) and, when
 * @tensorflow/tfjs-node is installed, SavedModels (`platform: 'tensorflow'`). The backend
 * is chosen once per thread (see tfjs-backend.ts).
 *
 * load throws ServingError NOT_FOUND when model.json is missing, FAILED_PRECONDITION when
 * the model cannot be read or parsed, or for a SavedModel without tfjs-node.
 */
export class TfjsRuntime implements Runtime {
  constructor(
    readonly platform: 'tfjs' | 'tensorflow' = 'tfjs',
    private readonly log: RuntimeLogger = consoleLogger,
  ) {}

  async load(dir: string, options: LoadOptions): Promise<LoadedModel> {
    const backend = await initTfjsBackend(parseDevice(options.device), this.log);
    // SavedModel weights live in libtensorflow's own allocator, which tf.memory() does not see.
    if (this.platform === 'tensorflow') return loadSavedModel(dir, backend, undefined);
    // Weights become backend tensors: the growth of the backend's bytes across the load is
    // what the model holds. Loads in one worker thread run one at a time (piscina runs one
    // task per worker), so nothing else allocates meanwhile.
    const bytesBefore = tf.memory().numBytes;
    const measured = () => Math.max(0, tf.memory().numBytes - bytesBefore);
    const artifacts = await readTfjsArtifacts(dir);
    const copy = backend.name !== 'wasm';
    const handler: tf.io.IOHandler = { load: async () => artifacts };
    if (artifacts.format === 'layers-model' || isKerasTopology(artifacts.modelTopology)) {
      const model = await loadOrFail(dir, () => tf.loadLayersModel(handler));
      const inputs = model.inputs.map((t) => tfSpec(t.sourceLayer.name, t.dtype, t.shape));
      const outputs = model.outputs.map((t) => tfSpec(t.sourceLayer.name, t.dtype, t.shape));
      return new TfjsModel(
        signatureOf(inputs, outputs),
        measured(),
        layersExecute(model),
        () => model.dispose(),
        copy,
      );
    }
    const model = await loadOrFail(dir, () => tf.loadGraphModel(handler));
    const sig = artifacts.signature as {
      inputs?: Record<string, TfSignatureEntry>;
      outputs?: Record<string, TfSignatureEntry>;
    };
    const inputs = sig?.inputs
      ? specsFromTfSignature(sig.inputs)
      : model.inputs.map((t) => tfSpec(t.name, t.dtype, t.shape));
    const outputs = sig?.outputs
      ? specsFromTfSignature(sig.outputs)
      : model.outputs.map((t) => tfSpec(t.name, t.dtype, t.shape));
    return new TfjsModel(
      signatureOf(inputs, outputs),
      measured(),
      graphExecute(model),
      () => model.dispose(),
      copy,
    );
  }
}

async function loadSavedModel(
  dir: string,
  backend: TfjsBackend,
  memoryBytes: number | undefined,
): Promise<LoadedModel> {
  if (!backend.nodeModule) {
    throw new ServingError(
      'FAILED_PRECONDITION',
      `${dir} is a TensorFlow SavedModel, which needs @tensorflow/tfjs-node (or -node-gpu); ` +
        'install it (npm install @tensorflow/tfjs-node) or convert the model to ONNX or TF.js',
      { permanent: true },
    );
  }
  const node = backend.nodeModule.node;
  const model = await loadOrFail(dir, () => node.loadSavedModel(dir, ['serve'], 'serving_default'));
  const inputs = model.inputs.map((t) => tfSpec(t.name, t.dtype, t.shape));
  const outputs = model.outputs.map((t) => tfSpec(t.name, t.dtype, t.shape));
  return new TfjsModel(
    signatureOf(inputs, outputs),
    memoryBytes,
    savedModelExecute(model),
    () => model.dispose(),
    true,
  );
}

async function loadOrFail<T>(dir: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ServingError) throw err;
    throw new ServingError(
      'FAILED_PRECONDITION',
      `Failed to load TF.js model in ${dir}: ${errorMessage(err)}`,
      {
        cause: err,
        permanent: true,
      },
    );
  }
}

function isKerasTopology(topology: unknown): boolean {
  return typeof topology === 'object' && topology !== null && 'class_name' in topology;
}
