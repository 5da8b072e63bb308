import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { errorMessage, ServingError } from '../../core/errors.js';

export const TFJS_MODEL_FILE = 'model.json';

/**
 * Reads `<dir>/model.json` and its weight shards into ModelArtifacts. Pure tfjs has no
 * file:// loader, so the tfjs runtime hands these to loadGraphModel/loadLayersModel
 * through an in-memory IOHandler.
 *
 * Throws ServingError NOT_FOUND when model.json is missing, FAILED_PRECONDITION when it
 * is not valid JSON or a shard is missing or lies outside the directory.
 */
export async function readTfjsArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const path = join(dir, TFJS_MODEL_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ServingError('NOT_FOUND', `No ${TFJS_MODEL_FILE} in ${dir}`, { cause: err });
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (err) {
    throw new ServingError('FAILED_PRECONDITION', `${path} is not valid JSON: ${errorMessage(err)}`, {
      cause: err,
      permanent: true,
    });
  }
  if (typeof json !== 'object' || json === null || json.modelTopology == null) {
    throw new ServingError('FAILED_PRECONDITION', `${path} has no modelTopology`, { permanent: true });
  }
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const shard of group.paths) buffers.push(await readShard(dir, shard));
    }
    return [specs, buffers];
  });
}

async function readShard(dir: string, shard: string): Promise<ArrayBuffer> {
  const path = normalize(join(dir, shard));
  if (!path.startsWith(normalize(dir) + sep)) {
    throw new ServingError('FAILED_PRECONDITION', `Weight shard ${shard} lies outside ${dir}`, {
      permanent: true,
    });
  }
  try {
    const bytes = await readFile(path);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (err) {
    throw new ServingError('FAILED_PRECONDITION', `Cannot read weight shard ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}
