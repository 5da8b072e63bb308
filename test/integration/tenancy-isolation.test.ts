import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '../../src/main/config/tenant-config.js';
import { estimateModelBytes } from '../../src/main/tenancy/memory-estimate.js';
import { FAKE_RUN } from '../fixtures/fake-runtime.js';
import { bearer } from '../fixtures/grpc-client.js';
import { copyVersion, getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

const ADMIN = 'admin-secret';
const ACME = 'acme-secret';
const GLOBEX = 'globex-secret';

interface VersionStatus {
  version: string;
  state: string;
  status: { error_code: string; error_message: string };
}

async function statusOf(ts: TestServer, key: string): Promise<VersionStatus[]> {
  const res = await getJson(`${ts.restUrl}/v1/models/fraud`, bearer(key));
  assert.equal(res.status, 200, res.text);
  return (res.body as { model_version_status: VersionStatus[] }).model_version_status;
}

/** Polls until `done` holds (a wait, not a timing assertion: it only bounds a hang). */
async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const giveUp = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > giveUp) assert.fail(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('memory budget rejection through the real server', () => {
  let ts: TestServer;
  let acmeBase: string;
  let perVersion: number;

  before(async () => {
    acmeBase = copyVersion('half_plus_two', 1);
    perVersion = await estimateModelBytes(path.join(acmeBase, '1'));
    ts = await startTestServer({
      // Room for the two serving versions and half of a third: acme's v2 cannot fit.
      devices: {
        // estimate: charges are the file sizes, so the budget arithmetic is exact.
        cpu: {
          workers: 1,
          intra_op_threads: 1,
          memory_budget_bytes: Math.floor(perVersion * 2.5),
          memory_measurement: 'estimate',
        },
      },
      admin_keys: [{ sha256: sha256Hex(ADMIN) }],
      tenants: [
        { id: 'acme', api_keys: [{ sha256: sha256Hex(ACME) }] },
        { id: 'globex', api_keys: [{ sha256: sha256Hex(GLOBEX) }] },
      ],
      // The defaults (5 retries, 60 s apart) stay: a retried budget rejection would hold
      // start-up and the new version's status for minutes.
      models: [
        { name: 'fraud', tenant: 'acme', base_path: acmeBase },
        { name: 'fraud', tenant: 'globex', base_path: copyVersion('half_plus_two', 1) },
      ],
    });
  });

  after(async () => {
    await ts.close();
  });

  it('a new version over the device budget ends in RESOURCE_EXHAUSTED without a retry; the serving version is untouched', async () => {
    copyVersion('half_plus_two', 1, acmeBase, 2);
    const versions = await waitFor(
      'acme v2 to settle',
      () => statusOf(ts, ACME),
      (s) => s.some((v) => v.version === '2' && v.state === 'END'),
    );
    const v2 = versions.find((v) => v.version === '2')!;
    assert.equal(v2.status.error_code, 'RESOURCE_EXHAUSTED');
    assert.match(v2.status.error_message, /device 'cpu'/);
    const v1 = versions.find((v) => v.version === '1')!;
    assert.equal(v1.state, 'AVAILABLE');
    const res = await postJson(`${ts.restUrl}/v1/models/fraud:predict`, { instances: [1] }, bearer(ACME));
    assert.equal(res.status, 200, res.text);
    const report = await getJson(`${ts.restUrl}/admin/tenants`, bearer(ADMIN));
    const models = report.body?.models as { model: string; version: number; measuredBytes: number | null }[];
    const acme = models.filter((m) => m.model === 'acme/fraud');
    assert.deepEqual(
      acme.map((m) => m.version),
      [1],
      'the rejected version holds no reservation',
    );
    assert.equal(
      acme[0].measuredBytes,
      null,
      'not measured (memory_measurement: estimate): reported as unknown, not as the estimate',
    );
  });
});

describe('tenant memory budget at start-up through the real server', () => {
  // The timeout only bounds a hang: with retries, start-up would take five minutes.
  it('a tenant over its budget fails at once with RESOURCE_EXHAUSTED (start-up is not held by retries); others serve', {
    timeout: 90_000,
  }, async () => {
    const ts = await startTestServer({
      tenants: [
        { id: 'globex', api_keys: [{ sha256: sha256Hex(GLOBEX) }] },
        // Its budget is below one version: its model is rejected.
        { id: 'tiny', api_keys: [{ sha256: sha256Hex('tiny-secret') }], quotas: { max_memory_bytes: 1 } },
      ],
      // Default retries (5, 60 s apart): were the rejection retried, start() would not return for minutes.
      models: [
        { name: 'fraud', tenant: 'globex', base_path: copyVersion('half_plus_two', 1) },
        { name: 'fraud', tenant: 'tiny', base_path: copyVersion('half_plus_two', 1) },
      ],
    });
    try {
      const [tiny] = await statusOf(ts, 'tiny-secret');
      assert.equal(tiny.state, 'END');
      assert.equal(tiny.status.error_code, 'RESOURCE_EXHAUSTED');
      assert.match(tiny.status.error_message, /tenant 'tiny'/);
      const res = await postJson(`${ts.restUrl}/v1/models/fraud:predict`, { instances: [1] }, bearer(GLOBEX));
      assert.equal(res.status, 200, res.text);
    } finally {
      await ts.close();
    }
  });
});

/** A fake-runtime model base path with version 1. */
function fakeModel(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-fake-'));
  mkdirSync(path.join(dir, '1'));
  writeFileSync(path.join(dir, '1', 'fake.json'), '{}');
  return dir;
}

describe("crash isolation between two tenants' models through the real server", () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer(
      {
        // One worker holds both tenants' models: acme's crash takes down globex's session too.
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        tenants: [
          { id: 'acme', api_keys: [{ sha256: sha256Hex(ACME) }] },
          { id: 'globex', api_keys: [{ sha256: sha256Hex(GLOBEX) }] },
        ],
        model_defaults: { load_retries: 0 },
        models: [
          { name: 'm', tenant: 'acme', base_path: fakeModel(), platform: 'onnx' },
          { name: 'm', tenant: 'globex', base_path: fakeModel(), platform: 'onnx' },
        ],
      },
      new URL('../fixtures/fake-runtime.js', import.meta.url).href,
    );
  });

  after(async () => {
    await ts.close();
  });

  /** The fake model's `y = x + 1` output from a columnar predict response. */
  const yOf = (body: Record<string, unknown> | undefined) =>
    (body?.outputs as { y?: unknown } | undefined)?.y;
  const predict = (key: string, value: number) =>
    postJson(`${ts.restUrl}/v1/models/m:predict`, { inputs: { x: [[value]] } }, bearer(key));

  it("acme's crashing request fails with a clear error; globex's requests settle and it keeps serving", async () => {
    assert.equal((await predict(GLOBEX, 1)).status, 200);
    const [crash, neighbour] = await Promise.all([predict(ACME, FAKE_RUN.EXIT), predict(GLOBEX, 5)]);
    assert.ok(crash.status >= 500, crash.text);
    assert.match(String(crash.body?.error), /worker|crash|exit/i);
    // The neighbour either ran before the crash, or on the replacement worker, or failed with
    // a clear error; it never hangs.
    if (neighbour.status === 200) assert.deepEqual(yOf(neighbour.body), [[6]]);
    else assert.match(String(neighbour.body?.error), /worker|crash|exit|unavailable/i);

    const after = await waitFor(
      'globex to serve again',
      () => predict(GLOBEX, 2),
      (r) => r.status === 200,
    );
    assert.deepEqual(yOf(after.body), [[3]]);
    // Acme's model was loaded again on the replacement worker too.
    const acme = await waitFor(
      'acme to serve again',
      () => predict(ACME, 3),
      (r) => r.status === 200,
    );
    assert.deepEqual(yOf(acme.body), [[4]]);
    assert.ok(ts.server.pools.get('cpu')!.stats().restarts >= 1);
  });
});
