import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { cnnWeights } from './models/cnn-weights.js';
import {
  cnnOnnx,
  halfPlusTwoOnnx,
  IDENTITY_DTYPES,
  identityOnnx,
  multiIoOnnx,
  POINT_CLASSES,
  pointClassifierOnnx,
  TYPED_CONTENT_DTYPES,
} from './models/onnx-models.js';
import { MODELS_README } from './models/readme.js';
import { cnnTfjs, halfPlusTwoTfjs, multiIoTfjs, type TfjsFiles } from './models/tfjs-models.js';

/**
 * Writes the example model repository (`<outDir>/<model>/1/...` plus README.md). Pure
 * function of the code: no downloads, fixed seeds, byte-identical output on every run.
 * Returns the paths written, relative to `outDir`, sorted.
 *
 * Usage: `node dist/scripts/generate-models.js <outDir>`
 */
export async function generateModels(outDir: string): Promise<string[]> {
  // The layers-model build needs a backend; cpu is always there and deterministic.
  await tf.setBackend('cpu');
  const files: Record<string, Uint8Array | string> = { 'README.md': MODELS_README };
  const weights = cnnWeights();
  files['half_plus_two/1/model.onnx'] = halfPlusTwoOnnx();
  files['cnn/1/model.onnx'] = cnnOnnx(weights);
  files['multi_io/1/model.onnx'] = multiIoOnnx();
  files['identity_dtypes/1/model.onnx'] = identityOnnx('identity_dtypes', IDENTITY_DTYPES);
  files['identity_no_fp16/1/model.onnx'] = identityOnnx('identity_no_fp16', TYPED_CONTENT_DTYPES);
  files['point_classifier/1/model.onnx'] = pointClassifierOnnx();
  // Beside the versions: the config's `labels_file` for its classify signature.
  files['point_classifier/labels.txt'] = `${POINT_CLASSES.map((c) => c.label).join('\n')}\n`;
  addTfjs(files, 'half_plus_two_tfjs/1', halfPlusTwoTfjs());
  addTfjs(files, 'cnn_tfjs/1', await cnnTfjs(weights));
  addTfjs(files, 'multi_io_tfjs/1', multiIoTfjs());

  const paths = Object.keys(files).sort();
  for (const rel of paths) {
    const path = join(outDir, rel);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, files[rel]);
  }
  return paths;
}

function addTfjs(files: Record<string, Uint8Array | string>, dir: string, model: TfjsFiles): void {
  files[`${dir}/model.json`] = model.modelJson;
  for (const [name, bytes] of Object.entries(model.shards)) files[`${dir}/${name}`] = bytes;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: node dist/scripts/generate-models.js <outDir>');
    process.exit(2);
  }
  const written = await generateModels(resolve(outDir));
  for (const p of written) console.log(join(outDir, p));
}
