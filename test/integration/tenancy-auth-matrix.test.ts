import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { sha256Hex } from '../../src/main/config/tenant-config.js';
import {
  bearer,
  floatTensor,
  type GrpcClient,
  grpcCall,
  grpcClient,
  grpcError,
} from '../fixtures/grpc-client.js';
import { copyVersion, getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

const ADMIN = 'admin-secret';
const ACME = 'acme-secret';
const GLOBEX = 'globex-secret';
const LIMITED = 'limited-secret';
const SCRAPER = 'scrape-secret';

/** KServe v2 gRPC inference request for half_plus_two. */
const infer = (name: string) => ({
  model_name: name,
  inputs: [{ name: 'x', datatype: 'FP32', shape: ['2'], contents: { fp32_contents: [1, 2] } }],
});

describe('tenancy auth matrix: gRPC additions, repository and metrics over REST', () => {
  let ts: TestServer;
  let url: string;
  let predict: GrpcClient;
  let models: GrpcClient;
  let kserve: GrpcClient;
  const acmeBase = copyVersion('half_plus_two', 1);
  const globexBase = copyVersion('half_plus_two', 1, undefined, 7);

  before(async () => {
    ts = await startTestServer({
      admin_keys: [{ sha256: sha256Hex(ADMIN) }],
      metrics_keys: [{ sha256: sha256Hex(SCRAPER) }],
      tenants: [
        { id: 'acme', api_keys: [{ sha256: sha256Hex(ACME) }], shared_models: ['shared'] },
        { id: 'globex', api_keys: [{ sha256: sha256Hex(GLOBEX) }] },
        {
          id: 'limited',
          api_keys: [{ sha256: sha256Hex(LIMITED) }],
          shared_models: ['shared'],
          quotas: { requests_per_second: 0.01, burst: 1 },
        },
      ],
      model_defaults: { load_retries: 0 },
      models: [
        { name: 'fraud', tenant: 'acme', base_path: acmeBase },
        { name: 'fraud', tenant: 'globex', base_path: globexBase },
        { name: 'shared', base_path: 'models/half_plus_two' },
      ],
    });
    url = ts.restUrl;
    predict = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
    models = grpcClient('tensorflow.serving.ModelService', ts.grpcAddress);
    kserve = grpcClient('inference.GRPCInferenceService', ts.grpcAddress);
  });

  after(async () => {
    for (const c of [predict, models, kserve]) c.close();
    await ts.close();
  });

  const tfRequest = (name: string) => ({ model_spec: { name }, inputs: { x: floatTensor([1, 2]) } });

  it('gRPC: a shared model serves the tenants that list it and is NOT_FOUND for others', async () => {
    const res = await grpcCall<{ outputs: { y: { float_val: number[]; tensor_content: Buffer } } }>(
      predict,
      'Predict',
      tfRequest('shared'),
      bearer(ACME),
    );
    assert.ok(res.outputs.y, 'acme lists the shared model');
    const unlisted = await grpcError(
      grpcCall(predict, 'Predict', tfRequest('shared'), bearer(GLOBEX)),
      grpc.status.NOT_FOUND,
    );
    const missing = await grpcError(
      grpcCall(predict, 'Predict', tfRequest('nosuch'), bearer(GLOBEX)),
      grpc.status.NOT_FOUND,
    );
    assert.equal(unlisted.details, missing.details?.split('nosuch').join('shared'));
    await grpcError(grpcCall(kserve, 'ModelInfer', infer('shared'), bearer(GLOBEX)), grpc.status.NOT_FOUND);
    const viaKserve = await grpcCall<{ model_name: string }>(
      kserve,
      'ModelInfer',
      infer('shared'),
      bearer(ACME),
    );
    assert.equal(viaKserve.model_name, 'shared');
  });

  it('KServe gRPC ModelInfer and ModelMetadata: no key and a wrong key are UNAUTHENTICATED', async () => {
    for (const [method, request] of [
      ['ModelInfer', infer('fraud')],
      ['ModelMetadata', { name: 'fraud' }],
    ] as const) {
      const none = await grpcError(grpcCall(kserve, method, request), grpc.status.UNAUTHENTICATED);
      assert.equal(none.details, 'Missing API key');
      const wrong = await grpcError(
        grpcCall(kserve, method, request, bearer('nope')),
        grpc.status.UNAUTHENTICATED,
      );
      assert.equal(wrong.details, 'Invalid API key');
    }
  });

  it("KServe gRPC: another tenant's model is NOT_FOUND, exactly like a missing one", async () => {
    for (const [method, request] of [
      ['ModelInfer', infer],
      ['ModelMetadata', (name: string) => ({ name })],
    ] as const) {
      const missing = await grpcError(
        grpcCall(kserve, method, request('nosuch'), bearer(ACME)),
        grpc.status.NOT_FOUND,
      );
      const hidden = await grpcError(
        grpcCall(kserve, method, request('globex/fraud'), bearer(ACME)),
        grpc.status.NOT_FOUND,
      );
      assert.equal(hidden.details, missing.details?.split('nosuch').join('globex/fraud'));
    }
    const own = await grpcCall<{ name: string; versions: string[] }>(
      kserve,
      'ModelMetadata',
      { name: 'fraud' },
      bearer(GLOBEX),
    );
    assert.equal(own.name, 'fraud');
    assert.deepEqual(own.versions, ['7']);
  });

  it('gRPC RESOURCE_EXHAUSTED from the rate quota carries a retry-after trailer in seconds', async () => {
    await grpcCall(predict, 'Predict', tfRequest('shared'), bearer(LIMITED));
    const err = await grpcError(
      grpcCall(predict, 'Predict', tfRequest('shared'), bearer(LIMITED)),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    const retryAfter = Number(err.metadata.get('retry-after')[0]);
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1,
      `retry-after ${err.metadata.get('retry-after')}`,
    );
    // The REST answer to the same quota says the same.
    const rest = await postJson(`${url}/v1/models/shared:predict`, { instances: [1] }, bearer(LIMITED));
    assert.equal(rest.status, 429);
    assert.ok(Number(rest.headers.get('retry-after')) >= 1);
  });

  it('metrics endpoints need an admin or metrics key when tenancy is on (401 without, 403 for a tenant)', async () => {
    for (const path of ['/metrics', '/monitoring/prometheus/metrics']) {
      const none = await fetch(`${url}${path}`);
      assert.equal(none.status, 401, path);
      assert.doesNotMatch(await none.text(), /fraud/);
      assert.equal((await fetch(`${url}${path}`, { headers: bearer('nope') })).status, 401);
      const tenant = await fetch(`${url}${path}`, { headers: bearer(ACME) });
      assert.equal(tenant.status, 403, path);
      assert.doesNotMatch(await tenant.text(), /globex/);
      for (const key of [ADMIN, SCRAPER]) {
        const ok = await fetch(`${url}${path}`, { headers: { 'x-api-key': key } });
        assert.equal(ok.status, 200, path);
        assert.match(await ok.text(), /^# HELP /m);
      }
    }
    // A metrics key opens nothing else.
    const predictAsScraper = await postJson(
      `${url}/v1/models/shared:predict`,
      { instances: [1] },
      bearer(SCRAPER),
    );
    assert.equal(predictAsScraper.status, 401);
  });

  it('REST repository unload and load as admin take a tenant model down and back up', async () => {
    const predictGlobex = () =>
      postJson(`${url}/v1/models/fraud:predict`, { instances: [1] }, bearer(GLOBEX));
    assert.equal((await predictGlobex()).status, 200);
    const unload = await postJson(`${url}/v2/repository/models/globex%2Ffraud/unload`, {}, bearer(ADMIN));
    assert.equal(unload.status, 200, unload.text);
    const gone = await predictGlobex();
    assert.notEqual(gone.status, 200, gone.text);
    // Acme's own fraud is untouched.
    const acme = await postJson(`${url}/v1/models/fraud:predict`, { instances: [1] }, bearer(ACME));
    assert.equal(acme.status, 200, acme.text);
    const load = await postJson(`${url}/v2/repository/models/globex%2Ffraud/load`, {}, bearer(ADMIN));
    assert.equal(load.status, 200, load.text);
    const back = await predictGlobex();
    assert.equal(back.status, 200, back.text);
    assert.deepEqual(back.body, { predictions: [2.5] });
    const ready = await getJson(`${url}/v2/models/fraud/ready`, bearer(GLOBEX));
    assert.equal(ready.status, 200);
  });

  it('gRPC reload by admin succeeds and the tenants keep their own models (runs last: it replaces the model list)', async () => {
    const denied = await grpcError(
      grpcCall(
        models,
        'HandleReloadConfigRequest',
        { config: { model_config_list: { config: [] } } },
        bearer(ACME),
      ),
      grpc.status.PERMISSION_DENIED,
    );
    assert.ok(denied.details);
    const config = {
      model_config_list: {
        config: [
          { name: 'acme/fraud', base_path: acmeBase, model_platform: 'onnx' },
          { name: 'globex/fraud', base_path: globexBase, model_platform: 'onnx' },
        ],
      },
    };
    const res = await grpcCall<{ status: { error_code: string | number } }>(
      models,
      'HandleReloadConfigRequest',
      { config },
      bearer(ADMIN),
    );
    assert.ok(res.status.error_code === 'OK' || res.status.error_code === 0, JSON.stringify(res));
    for (const [key, version] of [
      [ACME, '1'],
      [GLOBEX, '7'],
    ]) {
      const status = await grpcCall<{ model_version_status: { version: string; state: string | number }[] }>(
        models,
        'GetModelStatus',
        { model_spec: { name: 'fraud' } },
        bearer(key),
      );
      assert.equal(status.model_version_status[0].version, version);
      const p = await postJson(`${url}/v1/models/fraud:predict`, { instances: [1] }, bearer(key));
      assert.equal(p.status, 200, p.text);
    }
    // The shared model was not in the new list: it is gone.
    await grpcError(grpcCall(predict, 'Predict', tfRequest('shared'), bearer(ACME)), grpc.status.NOT_FOUND);
  });
});
