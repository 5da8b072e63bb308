import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { FakeModelSpec } from '../fixtures/fake-runtime.js';
import { floatTensor, grpcCall, grpcClient, grpcError } from '../fixtures/grpc-client.js';
import { copyVersion, getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;

/** A fake-runtime base path with version 1 behaving as `spec`. */
function fakeModel(spec: FakeModelSpec): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-health-'));
  mkdirSync(path.join(dir, '1'));
  writeFileSync(path.join(dir, '1', 'fake.json'), JSON.stringify(spec));
  return dir;
}

const predictBody = { instances: [[1, 2]] };

async function healthOf(address: string, service: string): Promise<string> {
  const health = grpcClient('grpc.health.v1.Health', address);
  try {
    const res = await grpcCall<{ status: string }>(health, 'Check', { service });
    return res.status;
  } catch (err) {
    const e = err as grpc.ServiceError;
    return e.code === grpc.status.NOT_FOUND ? 'SERVICE_UNKNOWN' : `error ${e.code}`;
  } finally {
    health.close();
  }
}

describe('truthful health: the ports listen at once, ready only when every model is AVAILABLE', () => {
  let ts: TestServer | undefined;
  after(async () => {
    await ts?.close();
  });

  it('while a slow model loads: live 200, ready 503, NOT_SERVING, predict 503 "is loading"; then all ready', async () => {
    ts = await startTestServer(
      {
        server: {},
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        models: [
          { name: 'slow', base_path: fakeModel({ loadDelayMs: 3000 }), platform: 'onnx' },
          { name: 'quick', base_path: fakeModel({}), platform: 'onnx' },
        ],
      },
      FAKE_RUNTIME,
      undefined,
      { waitForModels: false },
    );
    const url = ts.restUrl;
    // Listening before anything has loaded.
    assert.equal((await getJson(`${url}/v2/health/live`)).status, 200);
    assert.equal((await getJson(`${url}/healthz`)).status, 200);
    const ready = await getJson(`${url}/v2/health/ready`);
    assert.deepEqual([ready.status, ready.body], [503, { ready: false }]);
    assert.equal((await getJson(`${url}/readyz`)).status, 503);
    assert.equal(await healthOf(ts.grpcAddress, ''), 'NOT_SERVING');
    assert.equal(await healthOf(ts.grpcAddress, 'slow'), 'NOT_SERVING');
    assert.equal(await healthOf(ts.grpcAddress, 'no_such_model'), 'SERVICE_UNKNOWN');
    assert.equal((await getJson(`${url}/v2/models/slow/ready`)).status, 400);

    const loading = await postJson(`${url}/v1/models/slow:predict`, predictBody);
    assert.equal(loading.status, 503, loading.text);
    assert.match(String(loading.body?.error), /model slow is loading/);
    const v2 = await postJson(`${url}/v2/models/slow/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
    });
    assert.equal(v2.status, 503, v2.text);
    const prediction = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
    try {
      const err = await grpcError(
        grpcCall(prediction, 'Predict', {
          model_spec: { name: 'slow' },
          inputs: { x: { ...floatTensor([1, 2]), tensor_shape: { dim: [{ size: '1' }, { size: '2' }] } } },
        }),
        grpc.status.UNAVAILABLE,
      );
      assert.match(err.details, /model slow is loading/);
    } finally {
      prediction.close();
    }
    // An unknown model is still NOT_FOUND.
    assert.equal((await postJson(`${url}/v1/models/nope:predict`, predictBody)).status, 404);

    await ts.server.modelsLoaded();
    assert.deepEqual((await getJson(`${url}/v2/health/ready`)).body, { ready: true });
    assert.equal((await getJson(`${url}/readyz`)).status, 200);
    assert.equal((await getJson(`${url}/v2/models/slow/ready`)).status, 200);
    assert.equal(await healthOf(ts.grpcAddress, ''), 'SERVING');
    assert.equal(await healthOf(ts.grpcAddress, 'slow'), 'SERVING');
    assert.equal(await healthOf(ts.grpcAddress, 'quick'), 'SERVING');
    assert.equal((await postJson(`${url}/v1/models/slow:predict`, predictBody)).status, 200);
    await ts.close();
    ts = undefined;
  });

  it('a model file the runtime rejects is not retried: END with the error, server not ready, others serve', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'ts-badonnx-'));
    mkdirSync(path.join(bad, '1'));
    writeFileSync(path.join(bad, '1', 'model.onnx'), 'this is not an ONNX model');
    // Retried, this would hold modelsLoaded() for 5 × 60 s and the test would time out.
    ts = await startTestServer(
      {
        server: {},
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        model_defaults: { load_retries: 5, load_retry_interval_ms: 60_000 },
        models: [
          { name: 'broken', base_path: bad },
          { name: 'hpt', base_path: copyVersion('half_plus_two', 1) },
        ],
      },
      undefined,
      undefined,
      { waitForModels: false },
    );
    await ts.server.modelsLoaded();
    const status = await getJson(`${ts.restUrl}/v1/models/broken`);
    const versions = (
      status.body as { model_version_status: { state: string; status: Record<string, string> }[] }
    ).model_version_status;
    assert.equal(versions[0].state, 'END');
    assert.equal(versions[0].status.error_code, 'FAILED_PRECONDITION');
    assert.match(versions[0].status.error_message, /Failed to load ONNX model/);
    assert.equal((await getJson(`${ts.restUrl}/v2/health/ready`)).status, 503);
    assert.equal(await healthOf(ts.grpcAddress, ''), 'NOT_SERVING');
    assert.equal(await healthOf(ts.grpcAddress, 'broken'), 'NOT_SERVING');
    assert.equal(await healthOf(ts.grpcAddress, 'hpt'), 'SERVING');
    const ok = await postJson(`${ts.restUrl}/v1/models/hpt:predict`, { instances: [1, 2] });
    assert.equal(ok.status, 200, ok.text);
    await ts.close();
    ts = undefined;
  });

  it('a transient load failure shows its error in the status while it is retried', async () => {
    ts = await startTestServer(
      {
        server: {},
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        models: [
          {
            name: 'flaky',
            base_path: fakeModel({ loadError: 'disk hiccup' }),
            platform: 'onnx',
            load_retries: 2,
            load_retry_interval_ms: 60_000,
          },
        ],
      },
      FAKE_RUNTIME,
      undefined,
      { waitForModels: false },
    );
    let seen: { state: string; status: Record<string, string> } | undefined;
    for (let i = 0; i < 200 && seen?.status.error_message === undefined; i++) {
      const r = await getJson(`${ts.restUrl}/v1/models/flaky`);
      const v = (r.body as { model_version_status?: { state: string; status: Record<string, string> }[] })
        ?.model_version_status?.[0];
      if (v?.status.error_message) seen = v;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(seen, 'the retry error never reached the status');
    assert.equal(seen.state, 'LOADING');
    assert.match(seen.status.error_message, /disk hiccup/);
    assert.match(seen.status.error_message, /attempt 1 of 3 failed; retrying/);
    assert.equal((await getJson(`${ts.restUrl}/v2/health/ready`)).status, 503);
    await ts.close();
    ts = undefined;
  });
  it('HandleReloadConfigRequest answers by its deadline with the state so far while a model loads', async () => {
    ts = await startTestServer(
      { server: {}, devices: { cpu: { workers: 1, intra_op_threads: 1 } } },
      FAKE_RUNTIME,
    );
    const models = grpcClient('tensorflow.serving.ModelService', ts.grpcAddress);
    try {
      const request = {
        config: {
          model_config_list: {
            config: [{ name: 'slow', base_path: fakeModel({ loadDelayMs: 4000 }), model_platform: 'onnx' }],
          },
        },
      };
      const res = await new Promise<{ status: { error_code: string; error_message: string } }>(
        (resolve, reject) =>
          models.HandleReloadConfigRequest(
            request,
            new grpc.Metadata(),
            { deadline: Date.now() + 1500 },
            (err: grpc.ServiceError | null, r: { status: { error_code: string; error_message: string } }) =>
              err ? reject(err) : resolve(r),
          ),
      );
      assert.equal(res.status.error_code, 'UNAVAILABLE');
      assert.match(res.status.error_message, /still in progress/);
      assert.match(res.status.error_message, /slow: version 1 (START|LOADING)/);
      // The reload goes on and completes.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      let ready = false;
      for (let i = 0; i < 100 && !ready; i++) {
        ready = (await getJson(`${ts.restUrl}/v2/models/slow/ready`)).status === 200;
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(ready, 'the reload did not complete after the answer');
    } finally {
      models.close();
    }
    await ts.close();
    ts = undefined;
  });
});
