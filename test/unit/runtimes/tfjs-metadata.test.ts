import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TfjsRuntime } from '../../../src/workers/runtimes/tfjs.js';
import { readTfjsSignature } from '../../../src/workers/tfjs-signature.js';
import { MODELS_DIR } from '../../fixtures/repo-root.js';

describe('readTfjsSignature (TF.js metadata from model.json, without loading weights)', () => {
  for (const model of ['half_plus_two_tfjs', 'multi_io_tfjs']) {
    it(`${model}: the same signature as the loaded graph model`, async () => {
      const dir = path.join(MODELS_DIR, model, '1');
      const offline = await readTfjsSignature(path.join(dir, 'model.json'));
      const loaded = await new TfjsRuntime().load(dir, { device: 'cpu', intraOpThreads: 1 });
      try {
        assert.deepEqual(offline, loaded.signature);
      } finally {
        await loaded.dispose();
      }
    });
  }

  it('reads only model.json: the signature comes back with the weight shards absent', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'ts-tfjs-meta-'));
    const file = path.join(tmp, 'model.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'graph-model',
        modelTopology: { node: [] },
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }],
        signature: {
          inputs: {
            x: { name: 'x:0', dtype: 'DT_INT32', tensorShape: { dim: [{ size: '-1' }, { size: '4' }] } },
          },
          outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: { unknownRank: true } } },
        },
      }),
    );
    assert.deepEqual(await readTfjsSignature(file), {
      inputs: [{ name: 'x', dtype: 'int32', shape: [-1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: null }],
      batched: false,
      methodName: 'tensorflow/serving/predict',
    });
  });

  it('a layers model (cnn_tfjs) carries no signature block: undefined, it needs a load', async () => {
    assert.equal(await readTfjsSignature(path.join(MODELS_DIR, 'cnn_tfjs', '1', 'model.json')), undefined);
  });

  it('rejects a model.json that is not JSON with FAILED_PRECONDITION naming it', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'ts-tfjs-meta-'));
    const file = path.join(tmp, 'model.json');
    writeFileSync(file, '{ not json');
    await assert.rejects(readTfjsSignature(file), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FAILED_PRECONDITION');
      assert.match(err.message, /Cannot read the TF\.js model .*model\.json/);
      return true;
    });
  });
});
