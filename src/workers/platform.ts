import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, ServingError } from '../core/errors.js';
import type { Platform } from '../core/platform.js';

/** The file that marks each platform's version directory, in the order they are looked for. */
export const PLATFORM_MARKERS: readonly { readonly file: string; readonly platform: Platform }[] = [
  { file: 'model.onnx', platform: 'onnx' },
  { file: 'model.json', platform: 'tfjs' },
  { file: 'saved_model.pb', platform: 'tensorflow' },
  { file: 'saved_model.pbtxt', platform: 'tensorflow' },
];

/**
 * Tells which runtime serves a version directory from the files in it. Called by the
 * loader when the model config names no platform.
 *
 * Throws ServingError NOT_FOUND when the directory is missing or holds none of the marker
 * files (the message names the directory and the files looked for), FAILED_PRECONDITION
 * when the path is not a directory.
 */
export async function detectPlatform(versionDir: string): Promise<Platform> {
  const names = new Set(await listDir(versionDir));
  for (const { file, platform } of PLATFORM_MARKERS) if (names.has(file)) return platform;
  const wanted = PLATFORM_MARKERS.map((m) => m.file).join(', ');
  throw new ServingError('NOT_FOUND', `No model found in ${versionDir}: looked for ${wanted}`);
}

/**
 * Sum of the sizes of all files under a version directory, recursively: the manager's
 * first estimate of the memory a model will take before it is loaded. Throws like
 * detectPlatform when the directory cannot be read.
 */
export async function estimateModelBytes(versionDir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(versionDir, { withFileTypes: true, recursive: true }).catch(
    (err: unknown) => {
      throw dirError(versionDir, err);
    },
  )) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    throw dirError(dir, err);
  }
}

function dirError(dir: string, err: unknown): ServingError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new ServingError('NOT_FOUND', `Model version directory ${dir} does not exist`);
  if (code === 'ENOTDIR')
    return new ServingError('FAILED_PRECONDITION', `Model path ${dir} is not a directory`);
  return new ServingError('FAILED_PRECONDITION', `Cannot read model directory ${dir}: ${errorMessage(err)}`, {
    cause: err,
  });
}
