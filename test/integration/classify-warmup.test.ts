import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { WARMUP_FILE } from '../../src/main/config/warmup-options.js';
import { encodePredictionLog } from '../../src/main/lifecycle/warmup/prediction-log.js';
import { encodeTfRecords } from '../../src/main/lifecycle/warmup/tfrecord.js';
import { getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * Warmup files holding classify_log, regress_log and multi_inference_log records replay
 * through the model's declared signatures before the version becomes AVAILABLE; a record
 * the signatures cannot run fails the load. The fake runtime (y = x + 1) logs every run's
 * row count to runs.log.
 */

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;
const SIGNATURES = {
  plus_one: { method: 'regress', inputs: { v: 'x' }, values: 'y' },
  score: { method: 'classify', inputs: { v: 'x' }, scores: 'y' },
};

const examples = (...vs: number[]) => ({
  example_list: {
    examples: vs.map((v) => ({ features: { feature: { v: { float_list: { value: [v] } } } } })),
  },
});

function fakeBase(records: Uint8Array[]): { base: string; dir: string } {
  const base = mkdtempSync(path.join(tmpdir(), 'ts-classify-warmup-'));
  const dir = path.join(base, '1');
  mkdirSync(path.join(dir, 'assets.extra'), { recursive: true });
  writeFileSync(path.join(dir, 'fake.json'), JSON.stringify({ logRuns: true }));
  writeFileSync(path.join(dir, 'model.onnx'), 'fake');
  writeFileSync(path.join(dir, WARMUP_FILE), encodeTfRecords(records));
  return { base, dir };
}

const runs = (dir: string) => {
  const file = path.join(dir, 'runs.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
};

describe('warmup replay of Classify, Regress and MultiInference logs', () => {
  let ts: TestServer | undefined;
  after(async () => {
    await ts?.close();
  });

  it('replays each kind before AVAILABLE, and fails the load on an undeclared signature', async () => {
    const good = fakeBase([
      encodePredictionLog({
        regress_log: { request: { model_spec: { signature_name: 'plus_one' }, input: examples(1, 2) } },
      }),
      encodePredictionLog({
        classify_log: { request: { model_spec: { signature_name: 'score' }, input: examples(3) } },
      }),
      encodePredictionLog({
        multi_inference_log: {
          request: {
            tasks: [
              { model_spec: { signature_name: 'plus_one' }, method_name: 'tensorflow/serving/regress' },
              { model_spec: { signature_name: 'score' }, method_name: 'tensorflow/serving/classify' },
            ],
            input: examples(4, 5, 6),
          },
        },
      }),
    ]);
    const bad = fakeBase([
      encodePredictionLog({
        regress_log: { request: { model_spec: { signature_name: 'nope' }, input: examples(1) } },
      }),
    ]);
    ts = await startTestServer(
      {
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        models: [
          { name: 'good', base_path: good.base, platform: 'onnx', signatures: SIGNATURES },
          { name: 'bad', base_path: bad.base, platform: 'onnx', signatures: SIGNATURES, load_retries: 0 },
        ],
      },
      FAKE_RUNTIME,
    );
    // One run per record, each with its examples stacked as rows.
    assert.deepEqual(runs(good.dir), ['2', '1', '3']);
    const status = await getJson(`${ts.restUrl}/v1/models/good`);
    assert.match(status.text, /"state":"AVAILABLE"/);
    const r = await postJson(`${ts.restUrl}/v1/models/good:regress`, {
      signature_name: 'plus_one',
      examples: [{ v: 1 }],
    });
    assert.deepEqual(r.body, { result: [2] });

    assert.deepEqual(runs(bad.dir), []);
    const badStatus = await getJson(`${ts.restUrl}/v1/models/bad`);
    assert.doesNotMatch(badStatus.text, /AVAILABLE/);
    assert.match(badStatus.text, /record 0.*Signature 'nope' not found/);
  });
});
