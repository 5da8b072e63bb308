import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateModels } from '../../../scripts/generate-models.js';

let dir: Promise<string> | undefined;

/**
 * The example repository generated once per test process into a temp dir (removed when
 * the process exits). Call before the tfjs runtime picks its backend: the generator
 * sets tfjs' global backend to `cpu`.
 */
export function generatedModels(): Promise<string> {
  dir ??= (async () => {
    const out = await mkdtemp(join(tmpdir(), 'tensorserve-models-'));
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    await generateModels(out);
    return out;
  })();
  return dir;
}

/** A deterministic batch of `n` 28×28×1 images with values in [0, 1). */
export function testImages(n: number): Float32Array {
  const data = new Float32Array(n * 28 * 28);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 1000) / 1000;
  return data;
}

export const CPU = { device: 'cpu', intraOpThreads: 1 } as const;
