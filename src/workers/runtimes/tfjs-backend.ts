import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { errorMessage } from '../../core/errors.js';
import type { RuntimeLogger } from '../worker-log.js';
import type { Device } from './device.js';

/** The subset of @tensorflow/tfjs-node(-gpu) the tfjs runtime uses (SavedModel support). */
export interface TfjsNodeModule {
  readonly node: {
    loadSavedModel(path: string, tags?: string[], signature?: string): Promise<TfSavedModel>;
  };
}

/** tfjs-node's TFSavedModel, as far as serving needs it. */
export interface TfSavedModel {
  readonly inputs: tf.ModelTensorInfo[];
  readonly outputs: tf.ModelTensorInfo[];
  predict(inputs: tf.NamedTensorMap): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
  dispose(): void;
}

export interface TfjsBackend {
  /** The tfjs backend name in use: `tensorflow` (tfjs-node), `wasm` or `cpu`. */
  readonly name: string;
  /** tfjs-node or tfjs-node-gpu when one of them is installed, for SavedModels. */
  readonly nodeModule: TfjsNodeModule | undefined;
}

// Package names in variables so tsc does not look for their (absent) types.
const TFJS_NODE = '@tensorflow/tfjs-node';
const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';

let initialized: Promise<TfjsBackend> | undefined;

/**
 * Picks and initializes the tfjs backend once per thread (tfjs' engine is a per-thread
 * global): tfjs-node-gpu for a cuda device, else tfjs-node, when installed (optional
 * peers, never dependencies); otherwise the wasm backend; `cpu` if wasm cannot start.
 * The device of the first call decides; later calls get the same backend.
 */
export function initTfjsBackend(device: Device, log: RuntimeLogger): Promise<TfjsBackend> {
  initialized ??= chooseBackend(device, log);
  return initialized;
}

async function chooseBackend(device: Device, log: RuntimeLogger): Promise<TfjsBackend> {
  const candidates = device.kind === 'cuda' ? [TFJS_NODE_GPU, TFJS_NODE] : [TFJS_NODE];
  for (const pkg of candidates) {
    const mod = await tryImport(pkg);
    if (mod && (await tf.setBackend('tensorflow'))) {
      await tf.ready();
      log.info(`tfjs runtime: using ${pkg} (backend 'tensorflow')`);
      return { name: 'tensorflow', nodeModule: mod };
    }
  }
  if (device.kind === 'cuda') {
    log.warn(
      `tfjs runtime: ${TFJS_NODE_GPU} is not installed; tfjs models run on the CPU, not cuda:${device.index}`,
    );
  }
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the wasm backend must be told where its .wasm binaries are.
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(entry)}/`);
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      log.info("tfjs runtime: using @tensorflow/tfjs-backend-wasm (backend 'wasm')");
      return { name: 'wasm', nodeModule: undefined };
    }
    log.warn('tfjs runtime: the wasm backend failed to initialize');
  } catch (err) {
    log.warn(`tfjs runtime: the wasm backend is unavailable: ${errorMessage(err)}`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  log.info("tfjs runtime: using the pure JS 'cpu' backend (slow)");
  return { name: 'cpu', nodeModule: undefined };
}

async function tryImport(pkg: string): Promise<TfjsNodeModule | undefined> {
  try {
    const mod = (await import(pkg)) as Partial<TfjsNodeModule> & { default?: Partial<TfjsNodeModule> };
    const node = mod.node ?? mod.default?.node;
    return node ? { node } : undefined;
  } catch {
    return undefined;
  }
}
