import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeWarmup } from '../../../../scripts/make-warmup.js';
import { decodeTensorProto } from '../../../../src/main/codecs/tensor-proto.js';
import { WARMUP_FILE } from '../../../../src/main/config/warmup-options.js';
import { decodePredictionLog } from '../../../../src/main/lifecycle/warmup/prediction-log.js';
import { readTfRecords } from '../../../../src/main/lifecycle/warmup/tfrecord.js';
import { copyVersion } from '../../../fixtures/test-server.js';

function inputsOf(file: string) {
  return readTfRecords(readFileSync(file), { maxRecords: 1000, what: 'f' }).map((r) => {
    const log = decodePredictionLog(r, 'r');
    assert.equal(log.kind, 'predict_log');
    const inputs = (log.kind === 'predict_log' && log.request?.inputs) || {};
    return Object.fromEntries(
      Object.entries(inputs).map(([n, p]) => [n, decodeTensorProto(n, p, { maxElements: 1e6 })]),
    );
  });
}

describe('make-warmup', () => {
  it('writes records from the signature into the latest version', async () => {
    const base = copyVersion('half_plus_two', 1);
    copyVersion('half_plus_two', 1, base, 3);
    const { file, records } = await makeWarmup({
      modelDir: base,
      requests: [],
      batchSizes: [1, 4],
      data: 'zero',
      dims: {},
      count: 2,
    });
    assert.equal(file, path.join(base, '3', WARMUP_FILE));
    assert.equal(records, 4);
    const shapes = inputsOf(file).map((i) => Object.values(i)[0].shape);
    assert.equal(shapes.length, 4);
    assert.deepEqual(
      shapes.map((s) => s[0]),
      [1, 1, 4, 4],
    );
  });

  it('writes one record per sample request (TF Serving REST predict JSON)', async () => {
    const base = copyVersion('half_plus_two', 1);
    const sample = path.join(mkdtempSync(path.join(tmpdir(), 'ts-sample-')), 'req.json');
    writeFileSync(sample, JSON.stringify({ instances: [1.0, 2.0, 5.0] }));
    const out = path.join(path.dirname(sample), 'warmup');
    const { records } = await makeWarmup({
      modelDir: base,
      version: 1,
      requests: [sample],
      batchSizes: [1],
      data: 'zero',
      dims: {},
      count: 1,
      output: out,
    });
    assert.equal(records, 1);
    const [inputs] = inputsOf(out);
    const t = Object.values(inputs)[0];
    assert.deepEqual([...(t.data as Float32Array)], [1, 2, 5]);
  });

  it('a bad sample names the file', async () => {
    const base = copyVersion('half_plus_two', 1);
    const sample = path.join(mkdtempSync(path.join(tmpdir(), 'ts-sample-')), 'bad.json');
    writeFileSync(sample, '{"instances": "nope"}');
    await assert.rejects(
      makeWarmup({ modelDir: base, requests: [sample], batchSizes: [1], data: 'zero', dims: {}, count: 1 }),
      (e: unknown) => (e as Error).message.startsWith(`${sample}: `),
    );
  });
});
