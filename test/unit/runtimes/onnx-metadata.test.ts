import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readOnnxSignature } from '../../../src/workers/onnx-metadata.js';
import { OnnxRuntime } from '../../../src/workers/runtimes/onnx.js';
import { MODELS_DIR } from '../../fixtures/repo-root.js';

describe('readOnnxSignature (metadata without a session)', () => {
  for (const model of ['half_plus_two', 'cnn', 'multi_io', 'identity_dtypes']) {
    it(`${model}: the same signature as a loaded onnxruntime session`, async () => {
      const dir = path.join(MODELS_DIR, model, '1');
      const offline = await readOnnxSignature(path.join(dir, 'model.onnx'));
      const loaded = await new OnnxRuntime().load(dir, { device: 'cpu', intraOpThreads: 1 });
      try {
        assert.deepEqual(offline, loaded.signature);
      } finally {
        await loaded.dispose();
      }
    });
  }

  it('rejects a file that is not an ONNX model with FAILED_PRECONDITION naming it', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'ts-onnx-meta-'));
    const file = path.join(tmp, 'model.onnx');
    writeFileSync(file, 'not a model');
    await assert.rejects(readOnnxSignature(file), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FAILED_PRECONDITION');
      assert.match(err.message, /Cannot read the ONNX model .*model\.onnx/);
      return true;
    });
  });
});
