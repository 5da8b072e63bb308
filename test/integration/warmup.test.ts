import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { WARMUP_FILE } from '../../src/main/config/warmup-options.js';
import { encodePredictionLog, encodePredictLog } from '../../src/main/lifecycle/warmup/prediction-log.js';
import { encodeTfRecords } from '../../src/main/lifecycle/warmup/tfrecord.js';
import { HALF_PLUS_TWO_SIGNATURES } from '../fixtures/example-signatures.js';
import type { FakeModelSpec } from '../fixtures/fake-runtime.js';
import { FAKE_RUN } from '../fixtures/fake-runtime.js';
import {
  copyVersion,
  getJson,
  postJson,
  REPO_ROOT,
  startTestServer,
  type TestServer,
} from '../fixtures/test-server.js';

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;

interface VersionStatusJson {
  version: string;
  state: string;
  status: { error_code: string; error_message: string };
}

/** A PredictLog record for the fake model: x = [[v0, v1]]. */
function xRecord(v0: number, v1 = 0): Uint8Array {
  return encodePredictLog({
    inputs: {
      x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '2' }] }, float_val: [v0, v1] },
    },
  });
}

/** Writes a fake-runtime version (every run logged) into a staging dir, then renames it into place. */
function dropFakeVersion(
  base: string,
  version: number,
  warmup?: Uint8Array,
  spec: FakeModelSpec = {},
): string {
  const staging = path.join(base, `.staging-${version}`);
  mkdirSync(staging, { recursive: true });
  writeFileSync(path.join(staging, 'fake.json'), JSON.stringify({ logRuns: true, ...spec }));
  writeFileSync(path.join(staging, 'model.onnx'), 'fake');
  if (warmup !== undefined) {
    mkdirSync(path.join(staging, 'assets.extra'));
    writeFileSync(path.join(staging, WARMUP_FILE), warmup);
  }
  const dir = path.join(base, String(version));
  renameSync(staging, dir);
  return dir;
}

/** Rows of each run the fake model did in `dir` (one entry per run). */
function runs(dir: string): string[] {
  const file = path.join(dir, 'runs.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}

async function statuses(ts: TestServer, model: string): Promise<VersionStatusJson[]> {
  const r = await getJson(`${ts.restUrl}/v1/models/${model}`);
  return (r.body as { model_version_status: VersionStatusJson[] }).model_version_status;
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function predictVersion(ts: TestServer, model: string): Promise<string> {
  const r = await postJson(`${ts.restUrl}/v2/models/${model}/infer`, {
    inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [5, 6] }],
  });
  assert.equal(r.status, 200, r.text);
  return (r.body as { model_version: string }).model_version;
}

describe('warmup on a live server (fake runtime)', () => {
  let ts: TestServer;
  let base: string;
  let declaredDir: string;
  let offDir: string;
  const availableAt = new Map<number, number>();

  before(async () => {
    base = mkdtempSync(path.join(tmpdir(), 'ts-warmup-'));
    dropFakeVersion(base, 1, encodeTfRecords([xRecord(1), xRecord(2), xRecord(3)]));
    const declaredBase = mkdtempSync(path.join(tmpdir(), 'ts-warmup-decl-'));
    declaredDir = dropFakeVersion(declaredBase, 1);
    const offBase = mkdtempSync(path.join(tmpdir(), 'ts-warmup-off-'));
    offDir = dropFakeVersion(offBase, 1, encodeTfRecords([xRecord(1)]));
    ts = await startTestServer(
      {
        server: { grpc_port: -1, file_system_poll_wait_seconds: 0.05 },
        model_defaults: { num_request_iterations_for_warmup: 2 },
        models: [
          // Retries allowed: a warmup failure must still not be retried (it is permanent).
          { name: 'w', base_path: base, instances: 1, load_retries: 2, load_retry_interval_ms: 20 },
          {
            name: 'declared',
            base_path: declaredBase,
            warmup: [{ batch_sizes: [1, 4], data: 'random', count: 2, dims: { x: [3] } }],
          },
          { name: 'off', base_path: offBase, enable_model_warmup: false },
        ],
      },
      FAKE_RUNTIME,
    );
    ts.server.manager.onChange((e) => {
      if (e.model === 'w' && e.state === 'AVAILABLE')
        availableAt.set(e.version, runs(path.join(base, String(e.version))).length);
    });
  });
  after(() => ts.close());

  it('replays every record num_request_iterations_for_warmup times before the version is AVAILABLE', async () => {
    assert.deepEqual(runs(path.join(base, '1')), ['1', '1', '1', '1', '1', '1'], '3 records x 2 iterations');
    assert.equal(await predictVersion(ts, 'w'), '1');
    dropFakeVersion(base, 2, encodeTfRecords([xRecord(1), xRecord(2)]));
    await waitFor('version 2 AVAILABLE', async () =>
      (await statuses(ts, 'w')).some((v) => v.version === '2' && v.state === 'AVAILABLE'),
    );
    assert.equal(availableAt.get(2), 4, 'all 4 warmup runs happened before AVAILABLE was announced');
    assert.equal(await predictVersion(ts, 'w'), '2');
    const metrics = await fetch(`${ts.restUrl}/monitoring/prometheus/metrics`).then((r) => r.text());
    assert.match(metrics, /tensorserve_model_warmup_requests_total\{model_name="w",source="file"\} 10/);
    assert.match(metrics, /:tensorflow:serving:model_warmup_latency_count\{model_name="w",status="OK"\} 2/);
  });

  it('a declared YAML warmup runs when the version has no file; enable_model_warmup false runs nothing', () => {
    // batch sizes 1 and 4, 2 requests each (count), one pass.
    assert.deepEqual(runs(declaredDir), ['1', '1', '4', '4']);
    assert.deepEqual(runs(offDir), []);
  });

  it('a corrupt file, a failing record or an unsupported log kind fails the new version; the old one keeps serving', async () => {
    const serving = (await statuses(ts, 'w')).find((v) => v.state === 'AVAILABLE')?.version;
    assert.equal(serving, '2');
    const good = encodeTfRecords([xRecord(1), xRecord(2)]);
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 10] ^= 0xff; // inside record 1's data
    const cases: [number, Uint8Array, RegExp, string][] = [
      [
        3,
        corrupt,
        /Corrupt warmup file assets\.extra\/tf_serving_warmup_requests of model 'w' version 3: record 1: data CRC mismatch/,
        'INVALID_ARGUMENT',
      ],
      [
        4,
        encodeTfRecords([xRecord(1), xRecord(2), xRecord(FAKE_RUN.REJECT)]),
        /warmup file assets\.extra\/tf_serving_warmup_requests of model 'w' version 4: record 2 failed: fake runtime rejected the input/,
        'INVALID_ARGUMENT',
      ],
      [
        5,
        encodeTfRecords([xRecord(1), encodePredictionLog({ session_run_log: {} })]),
        /version 5: record 1 failed: warmup log kind session_run_log not supported/,
        'UNIMPLEMENTED',
      ],
    ];
    for (const [version, file, message, code] of cases) {
      const dir = dropFakeVersion(base, version, file);
      await waitFor(`version ${version} to fail`, async () =>
        (await statuses(ts, 'w')).some((v) => v.version === String(version) && v.state === 'END'),
      );
      const s = (await statuses(ts, 'w')).find((v) => v.version === String(version))!;
      assert.equal(s.status.error_code, code);
      assert.match(s.status.error_message, message);
      assert.equal(
        readFileSync(path.join(dir, 'loads.log'), 'utf8').trim().split('\n').length,
        1,
        'not retried',
      );
      assert.ok(!availableAt.has(version), `version ${version} was never AVAILABLE`);
      assert.equal(await predictVersion(ts, 'w'), '2', 'the old version keeps serving');
    }
  });
});

/** Examples with feature x = v (one float each), as a tensorflow.serving.Input. */
function exampleInput(values: number[]) {
  return {
    example_list: {
      examples: values.map((v) => ({ features: { feature: { x: { float_list: { value: [v] } } } } })),
    },
  };
}

describe('warmup with real models (make-warmup file for cnn, declared for cnn_tfjs, tf.Example logs)', () => {
  let ts: TestServer;
  before(async () => {
    const hpt = copyVersion('half_plus_two', 1);
    mkdirSync(path.join(hpt, '1', 'assets.extra'));
    writeFileSync(
      path.join(hpt, '1', WARMUP_FILE),
      encodeTfRecords([
        encodePredictionLog({
          classify_log: {
            request: { model_spec: { signature_name: 'classify_x_to_y' }, input: exampleInput([1, 2]) },
          },
        }),
        encodePredictionLog({
          regress_log: {
            request: { model_spec: { signature_name: 'regress_x_to_y' }, input: exampleInput([3]) },
          },
        }),
        encodePredictionLog({
          multi_inference_log: {
            request: {
              tasks: [
                {
                  model_spec: { signature_name: 'classify_x_to_y' },
                  method_name: 'tensorflow/serving/classify',
                },
                {
                  model_spec: { signature_name: 'regress_x_to_y' },
                  method_name: 'tensorflow/serving/regress',
                },
              ],
              input: exampleInput([4, 5, 6]),
            },
          },
        }),
      ]),
    );
    const hptBad = copyVersion('half_plus_two', 1);
    mkdirSync(path.join(hptBad, '1', 'assets.extra'));
    writeFileSync(
      path.join(hptBad, '1', WARMUP_FILE),
      encodeTfRecords([
        encodePredictionLog({
          regress_log: { request: { model_spec: { signature_name: 'nope' }, input: exampleInput([3]) } },
        }),
      ]),
    );
    const cnn = copyVersion('cnn', 1);
    await promisify(execFile)(process.execPath, [
      path.join(REPO_ROOT, 'dist/scripts/make-warmup.js'),
      cnn,
      '--batch-sizes=1,2',
      '--data=random',
    ]);
    ts = await startTestServer({
      server: { grpc_port: -1 },
      models: [
        { name: 'cnn', base_path: cnn },
        { name: 'cnn_tfjs', base_path: copyVersion('cnn_tfjs', 1), warmup: [{ batch_sizes: [1, 8] }] },
        { name: 'hpt', base_path: hpt, signatures: HALF_PLUS_TWO_SIGNATURES },
        { name: 'hpt_bad', base_path: hptBad, signatures: HALF_PLUS_TWO_SIGNATURES, load_retries: 0 },
      ],
    });
  });
  after(() => ts.close());

  it('both versions warmed up through their runtimes and serve', async () => {
    const metrics = await fetch(`${ts.restUrl}/monitoring/prometheus/metrics`).then((r) => r.text());
    assert.match(metrics, /tensorserve_model_warmup_requests_total\{model_name="cnn",source="file"\} 2/);
    assert.match(
      metrics,
      /tensorserve_model_warmup_requests_total\{model_name="cnn_tfjs",source="declared"\} 2/,
    );
    const image = Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0.5]));
    for (const model of ['cnn', 'cnn_tfjs']) {
      const r = await postJson(`${ts.restUrl}/v1/models/${model}:predict`, { instances: [image] });
      assert.equal(r.status, 200, r.text);
    }
  });

  it('classify, regress and multi_inference logs replay through the tf.Example path', async () => {
    const metrics = await fetch(`${ts.restUrl}/monitoring/prometheus/metrics`).then((r) => r.text());
    assert.match(metrics, /tensorserve_model_warmup_requests_total\{model_name="hpt",source="file"\} 3/);
    const r = await getJson(`${ts.restUrl}/v1/models/hpt_bad`);
    const [s] = (r.body as { model_version_status: VersionStatusJson[] }).model_version_status;
    assert.equal(s.state, 'END');
    assert.equal(s.status.error_code, 'INVALID_ARGUMENT');
    assert.match(s.status.error_message, /version 1: record 0 failed: Signature 'nope' not found/);
  });
});
