import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { sha256Hex } from '../../src/main/config/tenant-config.js';
import {
  bearer,
  type GrpcClient as Client,
  floatTensor,
  grpcCall,
  grpcClient,
  grpcError,
} from '../fixtures/grpc-client.js';
import { copyVersion, getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

const ADMIN = 'admin-secret';
const ACME = 'acme-secret';
const GLOBEX = 'globex-secret';
const LIMITED = 'limited-secret';

const apiKey = (key: string) => ({ 'x-api-key': key });
const PREDICT = { instances: [1, 2] };
const x = floatTensor;

describe('multi-tenancy end to end', () => {
  let ts: TestServer;
  let url: string;
  let predict: Client;
  let models: Client;

  before(async () => {
    ts = await startTestServer({
      admin_keys: [{ sha256: sha256Hex(ADMIN) }],
      tenants: [
        { id: 'acme', api_keys: [{ sha256: sha256Hex(ACME) }], shared_models: ['shared'] },
        { id: 'globex', api_keys: [{ sha256: sha256Hex(GLOBEX) }] },
        {
          id: 'limited',
          api_keys: [{ sha256: sha256Hex(LIMITED) }],
          shared_models: ['shared'],
          quotas: { requests_per_second: 0.01, burst: 2 },
        },
      ],
      models: [
        // Both tenants own a `fraud`; version numbers tell them apart.
        { name: 'fraud', tenant: 'acme', base_path: copyVersion('half_plus_two', 1) },
        { name: 'fraud', tenant: 'globex', base_path: copyVersion('half_plus_two', 1, undefined, 7) },
        { name: 'gonly', tenant: 'globex', base_path: copyVersion('half_plus_two', 1) },
        { name: 'shared', base_path: 'models/half_plus_two' },
      ],
    });
    url = ts.restUrl;
    predict = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
    models = grpcClient('tensorflow.serving.ModelService', ts.grpcAddress);
  });

  after(async () => {
    predict.close();
    models.close();
    await ts.close();
  });

  describe('REST identity', () => {
    it('refuses a request without a key or with a wrong one (401)', async () => {
      const none = await postJson(`${url}/v1/models/fraud:predict`, PREDICT);
      assert.equal(none.status, 401);
      assert.deepEqual(none.body, { error: 'Missing API key' });
      const wrong = await postJson(`${url}/v1/models/fraud:predict`, PREDICT, bearer('nope'));
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, { error: 'Invalid API key' });
      const wrongHeader = await getJson(`${url}/v2/models/fraud`, apiKey('nope'));
      assert.equal(wrongHeader.status, 401);
    });

    it('accepts the key as a Bearer token and as x-api-key, each tenant reaching its own fraud', async () => {
      for (const headers of [bearer(ACME), apiKey(ACME), bearer(GLOBEX)]) {
        const res = await postJson(`${url}/v1/models/fraud:predict`, PREDICT, headers);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { predictions: [2.5, 3] });
      }
      const acme = await getJson(`${url}/v1/models/fraud`, bearer(ACME));
      const globex = await getJson(`${url}/v1/models/fraud`, bearer(GLOBEX));
      assert.equal(firstVersion(acme.body), '1');
      assert.equal(firstVersion(globex.body), '7');
    });

    it("answers another tenant's model exactly like a missing one (404)", async () => {
      const cases = [
        (m: string) => postJson(`${url}/v1/models/${m}:predict`, PREDICT, bearer(ACME)),
        (m: string) => getJson(`${url}/v1/models/${m}`, bearer(ACME)),
        (m: string) => getJson(`${url}/v1/models/${m}/metadata`, bearer(ACME)),
        (m: string) => getJson(`${url}/v2/models/${m}`, bearer(ACME)),
        (m: string) => postJson(`${url}/v2/models/${m}/infer`, { inputs: [] }, bearer(ACME)),
      ];
      for (const request of cases) {
        const missing = await request('nosuch');
        assert.equal(missing.status, 404, missing.text);
        for (const hidden of ['gonly', 'globex%2Ffraud']) {
          const res = await request(hidden);
          assert.equal(res.status, 404, res.text);
          const name = decodeURIComponent(hidden);
          assert.equal(res.text, missing.text.split('nosuch').join(name));
          assert.doesNotMatch(res.text, /acme\//);
        }
      }
    });

    it('shows a shared model to the tenants that list it only', async () => {
      const listed = await postJson(`${url}/v1/models/shared:predict`, PREDICT, bearer(ACME));
      assert.equal(listed.status, 200, listed.text);
      const unlisted = await postJson(`${url}/v1/models/shared:predict`, PREDICT, bearer(GLOBEX));
      assert.equal(unlisted.status, 404);
      const missing = await postJson(`${url}/v1/models/nosuch:predict`, PREDICT, bearer(GLOBEX));
      assert.equal(unlisted.text, missing.text.split('nosuch').join('shared'));
    });

    it('keeps management APIs for admins (403 for tenants)', async () => {
      for (const path of ['/v2/repository/index', '/v2/repository/models/shared/unload']) {
        const res = await postJson(`${url}${path}`, {}, bearer(ACME));
        assert.equal(res.status, 403, res.text);
      }
      assert.equal((await getJson(`${url}/admin/tenants`, bearer(ACME))).status, 403);
      assert.equal((await getJson(`${url}/admin/tenants`)).status, 401);

      const index = await postJson(`${url}/v2/repository/index`, {}, bearer(ADMIN));
      assert.equal(index.status, 200, index.text);
      const names = new Set((index.body as unknown as { name: string }[]).map((r) => r.name));
      assert.deepEqual([...names].sort(), ['acme/fraud', 'globex/fraud', 'globex/gonly', 'shared']);
      const report = await getJson(`${url}/admin/tenants`, bearer(ADMIN));
      assert.equal(report.status, 200);
      const tenants = report.body?.tenants as { id: string; memoryUsedBytes: number }[];
      assert.deepEqual(
        tenants.map((t) => t.id),
        ['acme', 'globex', 'limited'],
      );
      assert.ok(tenants[0].memoryUsedBytes > 0);
      // Admins address a tenant's model by its internal name.
      const asAdmin = await postJson(`${url}/v1/models/globex%2Ffraud:predict`, PREDICT, bearer(ADMIN));
      assert.equal(asAdmin.status, 200, asAdmin.text);
    });
  });

  describe('statistics', () => {
    type Stats = {
      model_stats: { name: string; version: string; inference_stats: { success: { count: number } } }[];
    };

    it("reports a tenant's own model under the name it uses, matching the tenant-labelled metrics", async () => {
      for (const key of [ACME, ACME, GLOBEX]) {
        const ok = await postJson(`${url}/v1/models/fraud:predict`, PREDICT, bearer(key));
        assert.equal(ok.status, 200, ok.text);
      }
      const acme = await getJson(`${url}/v2/models/fraud/stats`, bearer(ACME));
      assert.equal(acme.status, 200, acme.text);
      const stats = (acme.body as unknown as Stats).model_stats;
      assert.deepEqual(
        stats.map((s) => `${s.name}/${s.version}`),
        ['fraud/1'],
      );
      assert.doesNotMatch(acme.text, /acme\//);
      const text = await (await fetch(`${url}/metrics`, { headers: bearer(ADMIN) })).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('nv_inference_request_success{') && l.includes('model="acme/fraud"'));
      assert.ok(line, 'acme/fraud success series');
      assert.equal(stats[0].inference_stats.success.count, Number(line.split(' ').at(-1)));

      const globex = await getJson(`${url}/v2/models/fraud/versions/7/stats`, bearer(GLOBEX));
      assert.equal(globex.status, 200, globex.text);
      assert.deepEqual(
        (globex.body as unknown as Stats).model_stats.map((s) => `${s.name}/${s.version}`),
        ['fraud/7'],
      );
    });
  });

  describe('gRPC identity', () => {
    const request = (name: string) => ({ model_spec: { name }, inputs: { x: x([1, 2]) } });

    it('needs authorization or x-api-key metadata', async () => {
      const none = await grpcError(
        grpcCall(predict, 'Predict', request('fraud')),
        grpc.status.UNAUTHENTICATED,
      );
      assert.equal(none.details, 'Missing API key');
      await grpcError(
        grpcCall(predict, 'Predict', request('fraud'), bearer('nope')),
        grpc.status.UNAUTHENTICATED,
      );
      for (const md of [bearer(ACME), apiKey(GLOBEX)]) {
        const res = await grpcCall<{ model_spec: { name: string } }>(
          predict,
          'Predict',
          request('fraud'),
          md,
        );
        assert.equal(res.model_spec.name, 'fraud');
      }
    });

    it("answers another tenant's model as NOT_FOUND with the missing model's message", async () => {
      const missing = await grpcError(
        grpcCall(predict, 'Predict', request('nosuch'), bearer(ACME)),
        grpc.status.NOT_FOUND,
      );
      const hidden = await grpcError(
        grpcCall(predict, 'Predict', request('gonly'), bearer(ACME)),
        grpc.status.NOT_FOUND,
      );
      assert.equal(hidden.details, missing.details.split('nosuch').join('gonly'));
    });

    it('keeps the reload RPC for admins', async () => {
      const reload = { config: { model_config_list: { config: [] } } };
      await grpcError(
        grpcCall(models, 'HandleReloadConfigRequest', reload, bearer(ACME)),
        grpc.status.PERMISSION_DENIED,
      );
    });
  });

  describe('admission', () => {
    it('throttles a tenant over its rate with 429 and Retry-After, and RESOURCE_EXHAUSTED on gRPC', async () => {
      for (let i = 0; i < 2; i++) {
        const ok = await postJson(`${url}/v1/models/shared:predict`, PREDICT, bearer(LIMITED));
        assert.equal(ok.status, 200, ok.text);
      }
      const over = await postJson(`${url}/v1/models/shared:predict`, PREDICT, bearer(LIMITED));
      assert.equal(over.status, 429, over.text);
      assert.equal(over.headers.get('retry-after'), '100');
      assert.match(over.text, /rate quota/);
      await grpcError(
        grpcCall(
          predict,
          'Predict',
          { model_spec: { name: 'shared' }, inputs: { x: x([1]) } },
          bearer(LIMITED),
        ),
        grpc.status.RESOURCE_EXHAUSTED,
      );
      // Other tenants are not affected.
      const other = await postJson(`${url}/v1/models/shared:predict`, PREDICT, bearer(ACME));
      assert.equal(other.status, 200);
    });
  });
});

function firstVersion(body: unknown): string {
  return (body as { model_version_status: { version: string }[] }).model_version_status[0].version;
}
