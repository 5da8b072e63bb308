import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { detectPlatform, estimateModelBytes } from '../../../src/workers/platform.js';

describe('detectPlatform', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tensorserve-platform-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  async function versionDir(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) {
      await mkdir(join(dir, file, '..'), { recursive: true });
      await writeFile(join(dir, file), content);
    }
    return dir;
  }

  it('recognizes each platform by its marker file', async () => {
    assert.equal(await detectPlatform(await versionDir('a', { 'model.onnx': 'x' })), 'onnx');
    assert.equal(await detectPlatform(await versionDir('b', { 'model.json': '{}', 'w.bin': '' })), 'tfjs');
    assert.equal(await detectPlatform(await versionDir('c', { 'saved_model.pb': 'x' })), 'tensorflow');
    assert.equal(await detectPlatform(await versionDir('d', { 'saved_model.pbtxt': 'x' })), 'tensorflow');
  });

  it('throws NOT_FOUND naming the directory and the files looked for', async () => {
    const dir = await versionDir('empty', { 'notes.txt': 'x' });
    await assert.rejects(detectPlatform(dir), (err: unknown) => {
      assert.ok(err instanceof ServingError);
      assert.equal(err.code, 'NOT_FOUND');
      assert.ok(err.message.includes(dir), err.message);
      assert.match(err.message, /model\.onnx, model\.json, saved_model\.pb/);
      return true;
    });
  });

  it('throws NOT_FOUND for a missing directory, FAILED_PRECONDITION for a file', async () => {
    await assert.rejects(detectPlatform(join(root, 'nope')), { code: 'NOT_FOUND' });
    const file = join(await versionDir('f', { 'model.onnx': 'x' }), 'model.onnx');
    await assert.rejects(detectPlatform(file), { code: 'FAILED_PRECONDITION' });
  });

  it('estimateModelBytes sums file sizes recursively', async () => {
    const dir = await versionDir('sizes', { 'saved_model.pb': 'abc', 'variables/variables.data': '12345' });
    assert.equal(await estimateModelBytes(dir), 8);
    await assert.rejects(estimateModelBytes(join(root, 'nope')), { code: 'NOT_FOUND' });
  });
});
