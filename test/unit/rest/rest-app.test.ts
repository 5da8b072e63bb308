import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { CallerIdentity } from '../../../src/core/caller-identity.js';
import { ServingError } from '../../../src/core/errors.js';
import type { ModelMetadataResult } from '../../../src/core/model-metadata.js';
import { DEFAULT_SIGNATURE_NAME, type Signature } from '../../../src/core/signature.js';
import type { TensorMap } from '../../../src/core/tensor.js';
import type { VersionSelector } from '../../../src/core/version-selector.js';
import type { VersionStatus } from '../../../src/core/version-status.js';
import { servingPlan } from '../../../src/main/lifecycle/serving-plan.js';
import { AccessLogSampler } from '../../../src/main/logging/access-log.js';
import { ServerMetrics } from '../../../src/main/metrics/server-metrics.js';
import { buildRestApp, type RestApp } from '../../../src/main/rest/rest-app.js';
import type { InferenceCore, PredictCall, PredictResult } from '../../../src/main/serving/inference-core.js';
import type { TenancyReport } from '../../../src/main/tenancy/tenancy-report.js';

const SIGNATURE: Signature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1] }],
  batched: true,
  methodName: 'tensorflow/serving/predict',
};

/** An inference core serving one model `m` (versions 3 and 2) whose output is 2x + 1. */
class OneModelCore implements InferenceCore {
  readonly calls: PredictCall[] = [];

  async predict(call: PredictCall): Promise<PredictResult> {
    this.calls.push(call);
    if (call.model !== 'm')
      throw new ServingError('NOT_FOUND', `Servable not found for request: Latest(${call.model})`);
    const inputs: TensorMap =
      typeof call.inputs === 'function'
        ? call.inputs(SIGNATURE, servingPlan('onnx', SIGNATURE))
        : call.inputs;
    const x = inputs.x.data as Float32Array;
    return {
      model: 'm',
      version: 3,
      signatureName: DEFAULT_SIGNATURE_NAME,
      outputs: { y: { dtype: 'float32', shape: [...inputs.x.shape], data: x.map((v) => 2 * v + 1) } },
    };
  }

  modelStatus(model: string, _selector: VersionSelector | undefined): VersionStatus[] {
    if (model !== 'm') throw new ServingError('NOT_FOUND', `Could not find any versions of model ${model}`);
    return [
      { version: 3, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' },
      { version: 2, state: 'END', errorCode: 'OK', errorMessage: '' },
    ];
  }

  modelMetadata(model: string): ModelMetadataResult {
    return {
      model,
      version: 3,
      platform: 'onnx',
      signatureName: DEFAULT_SIGNATURE_NAME,
      signature: SIGNATURE,
      availableVersions: [3],
    };
  }

  listModels(): string[] {
    return ['m'];
  }

  async reloadModels(): Promise<void> {}

  modelLoadError(): ServingError | undefined {
    return undefined;
  }

  live(): boolean {
    return true;
  }

  ready(): boolean {
    return true;
  }

  modelReady(model: string): boolean {
    return model === 'm';
  }
}

/** Keys: `admin-key` is the ops admin, `acme-key` tenant acme; no key is refused. */
function authenticate(headers: IncomingHttpHeaders): CallerIdentity | undefined {
  const key = headers['x-api-key'];
  if (key === 'admin-key') return { tenant: undefined, admin: true };
  if (key === 'acme-key') return { tenant: 'acme', admin: false };
  throw new ServingError('UNAUTHENTICATED', 'Missing or invalid API key');
}

const REPORT: TenancyReport = {
  enabled: true,
  tenants: [],
  devices: [{ name: 'cpu', budgetBytes: 0, usedBytes: 0 }],
  models: [],
};

describe('buildRestApp (fastify inject, nothing listening)', () => {
  const core = new OneModelCore();
  let rest: RestApp;

  before(() => {
    rest = buildRestApp(core, {
      tls: undefined,
      logger: pino({ level: 'silent' }),
      limits: {
        maxBodyBytes: 256,
        maxJsonDepth: 16,
        maxTensorElements: 1000,
        maxGrpcMessageBytes: 1 << 20,
        maxQueuedRequests: 0,
      },
      defaultRequestTimeoutMs: 5000,
      authenticate,
      kserve: { serverVersion: '9.9.9', repository: undefined, stats: undefined },
      scrape: {
        metrics: new ServerMetrics({ defaultMetrics: false }),
        paths: ['/monitoring/prometheus/metrics', '/metrics'],
        authorize: (headers) => {
          if (!authenticate(headers)?.admin)
            throw new ServingError('PERMISSION_DENIED', 'Scraping needs an admin key');
        },
      },
      admin: { tenancyReport: () => REPORT },
    });
  });

  after(async () => {
    await rest.app.close();
  });

  it('answers TF Serving predict: the JSON is decoded with the version signature, the answer encoded', async () => {
    const res = await rest.app.inject({
      method: 'POST',
      url: '/v1/models/m:predict',
      headers: { 'x-api-key': 'acme-key', 'x-request-id': 'req-7' },
      payload: '{"instances": [1.0, 2.5]}',
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(res.body), { predictions: [3, 6] });
    assert.equal(res.headers['x-request-id'], 'req-7');
    const call = core.calls.at(-1);
    assert.deepEqual(call?.caller, { tenant: 'acme', admin: false });
    assert.deepEqual(call?.selector, { kind: 'latest' });
    assert.equal(call?.entrypoint, 'REST');
    assert.equal(rest.app.server.listening, false);
  });

  it('answers model status in TF Serving JSON and KServe server metadata', async () => {
    const status = await rest.app.inject({ url: '/v1/models/m', headers: { 'x-api-key': 'acme-key' } });
    assert.equal(status.statusCode, 200);
    const versions = JSON.parse(status.body).model_version_status.map(
      (s: { version: string; state: string }) => [s.version, s.state],
    );
    assert.deepEqual(versions, [
      ['3', 'AVAILABLE'],
      ['2', 'END'],
    ]);
    const v2 = await rest.app.inject({ url: '/v2', headers: { 'x-api-key': 'acme-key' } });
    assert.equal(v2.statusCode, 200);
    assert.equal(JSON.parse(v2.body).version, '9.9.9');
  });

  it('serves GET /admin/tenants to admins only: 200 with the report, 403 for a tenant, 401 without credentials', async () => {
    const ok = await rest.app.inject({ url: '/admin/tenants', headers: { 'x-api-key': 'admin-key' } });
    assert.equal(ok.statusCode, 200);
    assert.match(String(ok.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(ok.body), REPORT);
    const tenant = await rest.app.inject({ url: '/admin/tenants', headers: { 'x-api-key': 'acme-key' } });
    assert.equal(tenant.statusCode, 403);
    assert.deepEqual(JSON.parse(tenant.body), { error: 'This API needs an admin key' });
    const anonymous = await rest.app.inject({ url: '/admin/tenants' });
    assert.equal(anonymous.statusCode, 401);
    assert.deepEqual(JSON.parse(anonymous.body), { error: 'Missing or invalid API key' });
  });

  it('checks scrape credentials on the metrics paths only', async () => {
    for (const url of ['/metrics', '/monitoring/prometheus/metrics']) {
      const denied = await rest.app.inject({ url, headers: { 'x-api-key': 'acme-key' } });
      assert.equal(denied.statusCode, 403, url);
      const ok = await rest.app.inject({ url, headers: { 'x-api-key': 'admin-key' } });
      assert.equal(ok.statusCode, 200, url);
      assert.match(String(ok.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    }
    // The health routes sit outside the scrape scope: no credentials needed.
    assert.equal((await rest.app.inject({ url: '/healthz' })).statusCode, 200);
  });

  it('answers unknown routes, oversized bodies and unknown models in the error format', async () => {
    const missing = await rest.app.inject({ url: '/nope?x=1' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(JSON.parse(missing.body), { error: 'No route for GET /nope' });
    const big = await rest.app.inject({
      method: 'POST',
      url: '/v1/models/m:predict',
      headers: { 'x-api-key': 'acme-key' },
      payload: `{"instances": [${'1.0,'.repeat(100)}1.0]}`,
    });
    assert.equal(big.statusCode, 413);
    assert.deepEqual(JSON.parse(big.body), {
      error: 'Request body is larger than the limit of 256 bytes (server.limits.max_body_bytes)',
    });
    const unknown = await rest.app.inject({
      method: 'POST',
      url: '/v1/models/other:predict',
      headers: { 'x-api-key': 'acme-key' },
      payload: '{"instances": [1.0]}',
    });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(JSON.parse(unknown.body), { error: 'Servable not found for request: Latest(other)' });
  });
});

describe('buildRestApp authentication', () => {
  it('authenticates each request once: arrival hook, route and sampled access line share it', async () => {
    const seen: string[] = [];
    const lines: { tenant?: string; url?: string }[] = [];
    const counting = (headers: IncomingHttpHeaders) => {
      seen.push(String(headers['x-request-id']));
      return authenticate(headers);
    };
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const { app } = buildRestApp(new OneModelCore(), {
      tls: undefined,
      logger,
      accessLog: new AccessLogSampler(1),
      limits: {
        maxBodyBytes: 1024,
        maxJsonDepth: 16,
        maxTensorElements: 1000,
        maxGrpcMessageBytes: 1024,
        maxQueuedRequests: 0,
      },
      defaultRequestTimeoutMs: 5000,
      authenticate: counting,
      arrive: (tenant) => ({ tenant }),
      kserve: { serverVersion: '1', repository: undefined, stats: undefined },
      admin: { tenancyReport: () => REPORT },
    });
    try {
      const predict = await app.inject({
        method: 'POST',
        url: '/v1/models/m:predict',
        headers: { 'x-api-key': 'acme-key', 'x-request-id': 'p1' },
        payload: '{"instances": [1.0]}',
      });
      assert.equal(predict.statusCode, 200);
      const status = await app.inject({
        url: '/v1/models/m',
        headers: { 'x-api-key': 'acme-key', 'x-request-id': 's1' },
      });
      assert.equal(status.statusCode, 200);
      const refused = await app.inject({ url: '/admin/tenants', headers: { 'x-request-id': 'r1' } });
      assert.equal(refused.statusCode, 401);
      assert.deepEqual(seen, ['p1', 's1', 'r1'], 'one authentication per request, a failed one included');
      const access = lines.filter((l) => (l as { msg?: string }).msg === 'access');
      assert.deepEqual(
        access.map((l) => [l.url, l.tenant]),
        [
          ['/v1/models/m:predict', 'acme'],
          ['/v1/models/m', 'acme'],
          ['/admin/tenants', undefined],
        ],
      );
    } finally {
      await app.close();
    }
  });
});
