import { access } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { errorMessage, ServingError } from '../../core/errors.js';
import { isBatchedSignature, PREDICT_METHOD, type Signature } from '../../core/signature.js';
import type { TensorMap } from '../../core/tensor.js';
import type { LoadedModel, LoadOptions, Runtime } from '../runtime.js';
import { parseDevice } from './device.js';
import { fromOrtTensor, specFromMetadata, toOrtTensor } from './onnx-tensors.js';

export const ONNX_MODEL_FILE = 'model.onnx';

/**
 * A one-node Identity model (float32 [1] → [1]), 115 bytes. Creating a session of it before
 * the first real load initializes onnxruntime's environment (about 26 MiB of RSS on x86-64
 * Linux), so that a load's RSS delta measures the model, not the runtime.
 */
const PRIME_MODEL = Buffer.from(
  'CAgSG3RlbnNvcnNlcnZlLWdlbmVyYXRlLW1vZGVscxoBMTIAOkcKHAoBeBIBeRoKeV9JZGVudGl0eSIISWRlbnRpdHkSBXByaW1lWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ==',
  'base64',
);

/** ORT messages that mean the request, not the model or the server, is wrong. */
const CLIENT_ERROR =
  /invalid dimensions|invalid rank|unexpected input data type|missing in 'feeds'|invalid output name|invalid input name|attempting to broadcast|does not match data length/i;

/**
 * Serves `<versionDir>/model.onnx` with onnxruntime-node, one InferenceSession per loaded
 * version. Used inside worker threads; `run` is called with one batch at a time.
 *
 * load throws ServingError NOT_FOUND when model.onnx is missing, FAILED_PRECONDITION when
 * ORT cannot load it or the device's execution provider is unavailable (never a silent
 * CPU fallback), INVALID_ARGUMENT for a malformed device name.
 */
export class OnnxRuntime implements Runtime {
  readonly platform = 'onnx' as const;
  #primed: Promise<void> | undefined;

  /** Initializes onnxruntime's environment once per thread (see PRIME_MODEL). Never rejects. */
  prime(): Promise<void> {
    this.#primed ??= ort.InferenceSession.create(new Uint8Array(PRIME_MODEL), { logSeverityLevel: 4 })
      .then((s) => s.release())
      .catch(() => {});
    return this.#primed;
  }

  async load(dir: string, options: LoadOptions): Promise<LoadedModel> {
    const device = parseDevice(options.device);
    const path = join(dir, ONNX_MODEL_FILE);
    await access(path).catch(() => {
      throw new ServingError('NOT_FOUND', `No ${ONNX_MODEL_FILE} in ${dir}`);
    });
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: Math.max(1, options.intraOpThreads),
      // Inter-op threads only help when independent nodes may run in parallel.
      interOpNumThreads: Math.max(1, options.interOpThreads ?? 1),
      executionMode: (options.interOpThreads ?? 1) > 1 ? 'parallel' : 'sequential',
      graphOptimizationLevel: 'all',
      // Run errors are rethrown to the client; ORT need not also print them natively.
      logSeverityLevel: 4,
      // An evictable session gets no CPU arena of its own (which it keeps at its high-water mark
      // and whose chunks fragment the thread's malloc heap under load/unload churn) and no
      // pre-planned activation buffers: its allocations go to malloc and back on release.
      // load-tests/README.md (bench:many-models) has the measurement.
      enableCpuMemArena: options.evictable !== true,
      enableMemPattern: options.evictable !== true,
      executionProviders: device.kind === 'cuda' ? [{ name: 'cuda', deviceId: device.index }] : ['cpu'],
    };
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, sessionOptions);
    } catch (err) {
      const msg = errorMessage(err);
      if (device.kind === 'cuda' && /cuda|provider|shared library/i.test(msg)) {
        throw new ServingError(
          'FAILED_PRECONDITION',
          `CUDA execution provider unavailable for ${options.device}: ${msg}. onnxruntime-node needs its CUDA ` +
            'binaries (install with ONNXRUNTIME_NODE_INSTALL=cuda12) and a CUDA 12 driver',
          { cause: err, permanent: true },
        );
      }
      // The file is there and ORT rejects it: retrying the same file cannot succeed.
      throw new ServingError('FAILED_PRECONDITION', `Failed to load ONNX model ${path}: ${msg}`, {
        cause: err,
        permanent: true,
      });
    }
    try {
      const inputs = session.inputMetadata.map(specFromMetadata);
      const outputs = session.outputMetadata.map(specFromMetadata);
      const signature: Signature = {
        inputs,
        outputs,
        batched: isBatchedSignature(inputs, outputs),
        methodName: PREDICT_METHOD,
      };
      // onnxruntime-node exposes no allocator statistics: the session's memory is not measurable.
      return new OnnxModel(session, signature, undefined);
    } catch (err) {
      await session.release();
      throw err;
    }
  }
}

class OnnxModel implements LoadedModel {
  readonly #inputNames: ReadonlySet<string>;
  readonly #outputNames: ReadonlySet<string>;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly signature: Signature,
    readonly memoryBytes: number | undefined,
  ) {
    this.#inputNames = new Set(signature.inputs.map((s) => s.name));
    this.#outputNames = new Set(signature.outputs.map((s) => s.name));
  }

  async run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(inputs)) {
      if (!this.#inputNames.has(name)) throw new ServingError('INVALID_ARGUMENT', `Unknown input '${name}'`);
      feeds[name] = toOrtTensor(name, tensor);
    }
    const fetches = outputNames.length > 0 ? [...outputNames] : this.session.outputNames.slice();
    for (const name of fetches) {
      if (!this.#outputNames.has(name))
        throw new ServingError('INVALID_ARGUMENT', `Unknown output '${name}'`);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds, fetches);
    } catch (err) {
      const msg = errorMessage(err);
      if (CLIENT_ERROR.test(msg)) throw new ServingError('INVALID_ARGUMENT', msg.trim(), { cause: err });
      throw new ServingError('INTERNAL', `ONNX Runtime failed: ${msg.trim()}`, { cause: err });
    }
    const out: TensorMap = {};
    for (const name of fetches) out[name] = fromOrtTensor(name, results[name] as ort.Tensor);
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
