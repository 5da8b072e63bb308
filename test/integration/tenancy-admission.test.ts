import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '../../src/main/config/tenant-config.js';
import { bearer } from '../fixtures/grpc-client.js';
import { copyVersion, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

const ACME = 'acme-secret';
const GLOBEX = 'globex-secret';

/*
 * Requests sit in their model's queue for the whole batch timeout (1.5 s; batches of 32 never
 * fill; eager_dispatch off, TF Serving's wait even at an idle model), so requests sent together
 * are all queued when the next one is admitted or refused.
 */
describe('tenancy admission over REST through the server', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({
      server: { limits: { max_queued_requests: 3 } },
      devices: { cpu: { workers: 1, intra_op_threads: 1 } },
      tenants: [
        { id: 'acme', api_keys: [{ sha256: sha256Hex(ACME) }] },
        { id: 'globex', api_keys: [{ sha256: sha256Hex(GLOBEX) }], quotas: { max_queued: 1 } },
      ],
      model_defaults: {
        load_retries: 0,
        batching: { max_batch_size: 32, batch_timeout_micros: 1_500_000, eager_dispatch: false },
      },
      models: [
        { name: 'fraud', tenant: 'acme', base_path: copyVersion('half_plus_two', 1) },
        { name: 'fraud', tenant: 'globex', base_path: copyVersion('half_plus_two', 1) },
      ],
    });
  });

  after(async () => {
    await ts.close();
  });

  const predict = (key: string) =>
    postJson(`${ts.restUrl}/v1/models/fraud:predict`, { instances: [1] }, bearer(key));

  it("over a tenant's max_queued → 429 RESOURCE_EXHAUSTED; the admitted request still succeeds", async () => {
    const results = await Promise.all([predict(GLOBEX), predict(GLOBEX)]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 429], results.map((r) => r.text).join(' | '));
    const refused = results.find((r) => r.status === 429)!;
    assert.match(String(refused.body?.error), /queue|queued/i);
  });

  it('over the server-wide bound → 503 UNAVAILABLE, distinct from the tenant quota', async () => {
    const results = await Promise.all([predict(ACME), predict(ACME), predict(ACME), predict(ACME)]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 503], results.map((r) => r.text).join(' | '));
  });
});
