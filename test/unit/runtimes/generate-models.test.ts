import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateModels } from '../../../scripts/generate-models.js';
import { MODELS_DIR } from '../../fixtures/repo-root.js';
import { generatedModels } from './generated-models.js';

const COMMITTED = MODELS_DIR;

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function assertSameTree(a: string, b: string): Promise<void> {
  const files = await listFiles(a);
  assert.deepEqual(await listFiles(b), files);
  for (const f of files) {
    assert.ok((await readFile(join(a, f))).equals(await readFile(join(b, f))), `${f} differs`);
  }
}

describe('generate-models', () => {
  const temps: string[] = [];
  after(async () => {
    for (const d of temps) await rm(d, { recursive: true, force: true });
  });

  it('writes the expected repository, byte-identical on every run', async () => {
    const first = await generatedModels();
    const second = await mkdtemp(join(tmpdir(), 'tensorserve-models-'));
    temps.push(second);
    const written = await generateModels(second);
    assert.deepEqual(written, [
      'README.md',
      'cnn/1/model.onnx',
      'cnn_tfjs/1/group1-shard1of1.bin',
      'cnn_tfjs/1/model.json',
      'half_plus_two/1/model.onnx',
      'half_plus_two_tfjs/1/group1-shard1of1.bin',
      'half_plus_two_tfjs/1/model.json',
      'identity_dtypes/1/model.onnx',
      'identity_no_fp16/1/model.onnx',
      'multi_io/1/model.onnx',
      'multi_io_tfjs/1/group1-shard1of1.bin',
      'multi_io_tfjs/1/model.json',
      'point_classifier/1/model.onnx',
      'point_classifier/labels.txt',
    ]);
    await assertSameTree(first, second);
  });

  it('matches the committed models/ (regenerate with npm run generate-models)', async () => {
    await assertSameTree(await generatedModels(), COMMITTED);
  });
});
