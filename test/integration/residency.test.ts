import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '../../src/main/config/tenant-config.js';
import { estimateModelBytes } from '../../src/workers/platform.js';
import { FAKE_RUN, type FakeModelSpec, releaseHeld } from '../fixtures/fake-runtime.js';
import { bearer } from '../fixtures/grpc-client.js';
import {
  copyVersion,
  getJson,
  MODELS_DIR,
  postJson,
  startTestServer,
  type TestServer,
} from '../fixtures/test-server.js';

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;

async function stateOf(ts: TestServer, model: string, headers: Record<string, string> = {}): Promise<string> {
  const r = await getJson(`${ts.restUrl}/v1/models/${model}`, headers);
  assert.equal(r.status, 200, r.text);
  return (r.body as { model_version_status: { state: string }[] }).model_version_status[0].state;
}

/** Polls until `done` holds (bounds a hang; not a timing assertion). */
async function waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
  const giveUp = Date.now() + 30_000;
  while (!(await done())) {
    if (Date.now() > giveUp) assert.fail(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One sample of a Prometheus series, 0 when absent. */
async function metric(ts: TestServer, series: string): Promise<number> {
  const text = await (await fetch(`${ts.restUrl}/monitoring/prometheus/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const hpt = (ts: TestServer, model: string, headers: Record<string, string> = {}) =>
  postJson(`${ts.restUrl}/v1/models/${model}:predict`, { instances: [1, 2] }, headers);

describe('on-demand residency through the real server (onnx, device budget of two on-demand models)', () => {
  let ts: TestServer;
  let perVersion: number;

  before(async () => {
    perVersion = await estimateModelBytes(path.join(MODELS_DIR, 'half_plus_two', '1'));
    ts = await startTestServer({
      server: { grpc_port: -1 },
      // One worker: each version is charged its file once; `estimate` keeps the arithmetic exact.
      devices: {
        cpu: {
          workers: 1,
          intra_op_threads: 1,
          memory_budget_bytes: Math.floor(perVersion * 3.5),
          memory_measurement: 'estimate',
        },
      },
      model_defaults: { load_on_demand: true, load_retries: 0 },
      models: [
        { name: 'pinned', base_path: copyVersion('half_plus_two', 1), load_on_demand: false },
        ...['a', 'b', 'c'].map((name) => ({ name, base_path: copyVersion('half_plus_two', 1) })),
        { name: 'too_big', base_path: copyVersion('cnn', 1) },
        // Never requested: only its metadata is read, from model.json.
        { name: 'tfjs_graph', base_path: copyVersion('multi_io_tfjs', 1) },
      ],
    });
  });
  after(() => ts.close());

  it('registers on-demand models in START, the server is ready, and the first request loads the model', async () => {
    assert.equal(await stateOf(ts, 'a'), 'START');
    assert.equal(await stateOf(ts, 'pinned'), 'AVAILABLE');
    assert.equal((await getJson(`${ts.restUrl}/v2/health/ready`)).status, 200);
    assert.equal(
      (await getJson(`${ts.restUrl}/v2/models/a/ready`)).status,
      200,
      'loadable on demand = ready',
    );
    const index = await postJson(`${ts.restUrl}/v2/repository/index`, {});
    assert.ok(JSON.stringify(index.body ?? index.text).includes('"a"'), index.text);
    // Metadata is read from the ONNX file: the model stays unloaded.
    const meta = await getJson(`${ts.restUrl}/v2/models/a`);
    assert.equal(meta.status, 200, meta.text);
    assert.deepEqual(
      ((meta.body?.inputs ?? []) as { name: string; datatype: string }[]).map((i) => [i.name, i.datatype]),
      [['x', 'FP32']],
    );
    const tfsMeta = await getJson(`${ts.restUrl}/v1/models/a/metadata`);
    assert.equal(tfsMeta.status, 200, tfsMeta.text);
    assert.equal(await stateOf(ts, 'a'), 'START');
    const r = await hpt(ts, 'a');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body?.predictions, [2.5, 3]);
    assert.equal(await stateOf(ts, 'a'), 'AVAILABLE');
    assert.equal(await metric(ts, 'tensorserve_residency_requests_total{model="a",result="miss"}'), 1);
    assert.equal((await hpt(ts, 'a')).status, 200);
    assert.equal(await metric(ts, 'tensorserve_residency_requests_total{model="a",result="hit"}'), 1);
    assert.equal(await metric(ts, 'tensorserve_cold_start_seconds_count{model="a"}'), 1);
  });

  it("a TF.js graph model's metadata is read from its model.json signature, without loading it", async () => {
    const meta = await getJson(`${ts.restUrl}/v2/models/tfjs_graph`);
    assert.equal(meta.status, 200, meta.text);
    const specs = (list: unknown) =>
      (list as { name: string; datatype: string; shape: number[] }[]).map((t) => [
        t.name,
        t.datatype,
        t.shape,
      ]);
    assert.deepEqual(specs(meta.body?.inputs), [
      ['a', 'FP32', [-1, 3]],
      ['b', 'FP32', [-1, 3]],
      ['scale', 'FP32', [-1, 1]],
    ]);
    assert.deepEqual(specs(meta.body?.outputs), [
      ['sum', 'FP32', [-1, 3]],
      ['weighted', 'FP32', [-1, 3]],
      ['greater', 'BOOL', [-1, 3]],
      ['count', 'INT64', [-1]],
    ]);
    assert.equal((await getJson(`${ts.restUrl}/v1/models/tfjs_graph/metadata`)).status, 200);
    assert.equal(await stateOf(ts, 'tfjs_graph'), 'START');
    assert.equal(await metric(ts, 'tensorserve_model_loads_total{model="tfjs_graph",result="ok"}'), 0);
  });

  it('concurrent first requests share one load', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => hpt(ts, 'b')));
    for (const r of results) assert.equal(r.status, 200, r.text);
    assert.equal(await metric(ts, 'tensorserve_model_loads_total{model="b",result="ok"}'), 1);
  });

  it('a load over the budget evicts the least recently used on-demand model, never the pinned one', async () => {
    assert.equal((await hpt(ts, 'a')).status, 200, 'a is now more recent than b');
    const r = await hpt(ts, 'c');
    assert.equal(r.status, 200, r.text);
    assert.equal(await stateOf(ts, 'b'), 'START', 'b was the least recently used');
    assert.equal(await stateOf(ts, 'a'), 'AVAILABLE');
    assert.equal(await stateOf(ts, 'pinned'), 'AVAILABLE');
    assert.equal(await metric(ts, 'tensorserve_model_evictions_total{model="b",reason="lru"}'), 1);
    assert.equal(await metric(ts, 'tensorserve_resident_bytes{scope="device",name="cpu"}'), perVersion * 3);
    // b comes back on its next request, evicting a (now the least recently used).
    assert.equal((await hpt(ts, 'b')).status, 200);
    assert.equal(await stateOf(ts, 'a'), 'START');
  });

  it('a model that cannot fit even after evicting everything fails with RESOURCE_EXHAUSTED naming the budget', async () => {
    const r = await postJson(`${ts.restUrl}/v1/models/too_big:predict`, {
      instances: [Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0]))],
    });
    assert.equal(r.status, 429, r.text);
    assert.match(String(r.body?.error), /Memory budget of device 'cpu' exceeded/);
    assert.equal(await stateOf(ts, 'pinned'), 'AVAILABLE');
    assert.equal((await hpt(ts, 'pinned')).status, 200);
  });
});

describe("a tenant's on-demand models count against its budget and evict its own first", () => {
  let ts: TestServer;
  const ACME = 'acme-key';
  const GLOBEX = 'globex-key';
  const ADMIN = 'admin-key';

  before(async () => {
    const perVersion = await estimateModelBytes(path.join(MODELS_DIR, 'half_plus_two', '1'));
    ts = await startTestServer({
      server: { grpc_port: -1 },
      devices: { cpu: { workers: 1, intra_op_threads: 1, memory_measurement: 'estimate' } },
      admin_keys: [{ sha256: sha256Hex(ADMIN) }],
      tenants: [
        {
          id: 'acme',
          api_keys: [{ sha256: sha256Hex(ACME) }],
          quotas: { max_memory_bytes: Math.floor(perVersion * 2.5) },
        },
        { id: 'globex', api_keys: [{ sha256: sha256Hex(GLOBEX) }] },
      ],
      model_defaults: { load_on_demand: true, load_retries: 0 },
      models: [
        ...['x', 'y', 'z'].map((name) => ({
          name,
          tenant: 'acme',
          base_path: copyVersion('half_plus_two', 1),
        })),
        { name: 'g', tenant: 'globex', base_path: copyVersion('half_plus_two', 1) },
      ],
    });
  });
  after(() => ts.close());

  it('loading a third acme model evicts acme’s least recently used one; globex’s older model stays', async () => {
    assert.equal((await hpt(ts, 'g', bearer(GLOBEX))).status, 200);
    assert.equal((await hpt(ts, 'x', bearer(ACME))).status, 200);
    assert.equal((await hpt(ts, 'y', bearer(ACME))).status, 200);
    const r = await hpt(ts, 'z', bearer(ACME));
    assert.equal(r.status, 200, r.text);
    assert.equal(await stateOf(ts, 'x', bearer(ACME)), 'START');
    assert.equal(await stateOf(ts, 'y', bearer(ACME)), 'AVAILABLE');
    assert.equal(
      await stateOf(ts, 'g', bearer(GLOBEX)),
      'AVAILABLE',
      'the least recently used overall, but not acme’s',
    );
    const report = await getJson(`${ts.restUrl}/admin/tenants`, bearer(ADMIN));
    const acme = (
      (report.body?.tenants ?? []) as {
        id: string;
        memoryUsedBytes: number;
        quotas: { maxMemoryBytes: number };
      }[]
    ).find((t) => t.id === 'acme')!;
    assert.ok(acme.memoryUsedBytes <= acme.quotas.maxMemoryBytes, JSON.stringify(acme));
  });
});

/** A fake-runtime model (fault injection: slow loads, slow runs) with version 1. */
function fakeModel(spec: FakeModelSpec = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-fake-'));
  mkdirSync(path.join(dir, '1'));
  // Padded so the file-size estimate equals the fake's measured bytes: eviction happens before the load.
  const json = JSON.stringify(spec);
  writeFileSync(path.join(dir, '1', 'fake.json'), json.padEnd(spec.memoryBytes ?? json.length, ' '));
  return dir;
}

describe('on-demand residency under slow loads and slow requests (fake runtime)', () => {
  let ts: TestServer;
  const bases = new Map(['f1', 'f2', 'f3'].map((name) => [name, fakeModel({ memoryBytes: 1000 })]));
  const fake = (ts: TestServer, model: string, x: number[], headers: Record<string, string> = {}) =>
    postJson(`${ts.restUrl}/v1/models/${model}:predict`, { inputs: { x: [x] } }, headers);

  before(async () => {
    ts = await startTestServer(
      {
        server: { grpc_port: -1 },
        // Each fake version measures 1000 bytes on its one worker: the budget holds two.
        devices: { cpu: { workers: 2, intra_op_threads: 1, memory_budget_bytes: 2500 } },
        model_defaults: { load_on_demand: true, load_retries: 0, instances: 1 },
        models: [
          ...['f1', 'f2', 'f3'].map((name) => ({
            name,
            platform: 'onnx',
            base_path: bases.get(name),
          })),
          { name: 'slow', platform: 'onnx', base_path: fakeModel({ memoryBytes: 1000, loadDelayMs: 1500 }) },
        ],
      },
      FAKE_RUNTIME,
    );
  });
  after(() => ts.close());

  it('a model with a request in flight is never evicted, even when it is the least recently used', async () => {
    const inFlight = fake(ts, 'f1', [FAKE_RUN.HOLD, 0]);
    await waitFor('f1 to load and run', async () => (await stateOf(ts, 'f1')) === 'AVAILABLE');
    assert.equal((await fake(ts, 'f2', [1])).status, 200);
    assert.equal((await fake(ts, 'f3', [1])).status, 200);
    assert.equal(await stateOf(ts, 'f1'), 'AVAILABLE', 'f1 has a request running');
    assert.equal(await stateOf(ts, 'f2'), 'START');
    releaseHeld(path.join(bases.get('f1') ?? '', '1'));
    const r = await inFlight;
    assert.equal(r.status, 200, r.text);
  });

  it('a deadline during a cold start answers DEADLINE_EXCEEDED; the load completes once and is not leaked', async () => {
    const r = await fake(ts, 'slow', [1], { 'x-request-timeout-ms': '200' });
    assert.equal(r.status, 504, r.text);
    assert.match(String(r.body?.error), /Deadline exceeded while model slow version 1 was loading/);
    await waitFor('the load to finish anyway', async () => (await stateOf(ts, 'slow')) === 'AVAILABLE');
    assert.equal((await fake(ts, 'slow', [1])).status, 200);
    assert.equal(await metric(ts, 'tensorserve_model_loads_total{model="slow",result="ok"}'), 1);
    // The abandoned wait reserved nothing extra: the budget still holds.
    const used = await metric(ts, 'tensorserve_resident_bytes{scope="device",name="cpu"}');
    assert.ok(used <= 2500, `resident bytes ${used} within the budget`);
  });
});

describe('idle unload through the real server', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({
      server: { grpc_port: -1 },
      devices: { cpu: { workers: 1, intra_op_threads: 1 } },
      models: [
        {
          name: 'idle',
          base_path: copyVersion('half_plus_two', 1),
          load_on_demand: true,
          idle_unload_seconds: 0.2,
        },
      ],
    });
  });
  after(() => ts.close());

  it('an on-demand model unused for idle_unload_seconds is unloaded, and loads again on its next request', async () => {
    assert.equal((await hpt(ts, 'idle')).status, 200);
    await waitFor('the idle unload', async () => (await stateOf(ts, 'idle')) === 'START');
    assert.equal(await metric(ts, 'tensorserve_model_evictions_total{model="idle",reason="idle"}'), 1);
    assert.equal((await hpt(ts, 'idle')).status, 200);
    assert.equal(await metric(ts, 'tensorserve_model_loads_total{model="idle",result="ok"}'), 2);
  });
});
