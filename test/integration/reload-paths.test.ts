import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/main/config/load-config.js';
import { type GrpcClient, grpcCall, grpcClient } from '../fixtures/grpc-client.js';
import { getJson, postJson, REPO_ROOT, startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * The three reload paths of a real server meet in one ServerCore: the gRPC ReloadConfig call
 * (serves exactly its list, the known list keeps the rest), the KServe repository extension
 * (loads a known model back with its YAML settings) and the YAML reload (the known list
 * becomes exactly the new config's).
 */
describe('reload paths through one ServerCore', () => {
  const raw = (models: object[]) => ({
    server: { host: '127.0.0.1', rest_api_port: 0, grpc_port: 0, file_system_poll_wait_seconds: 0.1 },
    devices: { cpu: { workers: 2, intra_op_threads: 1 } },
    models,
  });
  const HPT = { name: 'half_plus_two', base_path: 'models/half_plus_two' };
  // Its own batching, which the TF Serving model list of a ReloadConfig call cannot carry.
  const TFJS = {
    name: 'half_plus_two_tfjs',
    base_path: 'models/half_plus_two_tfjs',
    batching: { max_batch_size: 4, batch_timeout_micros: 0 },
  };
  let ts: TestServer;
  let models: GrpcClient;

  before(async () => {
    ts = await startTestServer(raw([HPT, TFJS]));
    models = grpcClient('tensorflow.serving.ModelService', ts.grpcAddress);
  });
  after(async () => {
    models?.close();
    await ts?.close();
  });

  const index = async () => {
    const r = await postJson(`${ts.restUrl}/v2/repository/index`, {});
    assert.equal(r.status, 200, r.text);
    return (JSON.parse(r.text) as { name: string; state: string; reason: string }[])
      .map((e) => `${e.name}:${e.state}`)
      .sort();
  };
  const predict = (model: string) =>
    postJson(`${ts.restUrl}/v1/models/${model}:predict`, { instances: [1.0, 2.0, 5.0] });

  it('ReloadConfig drops a model from serving, the repository loads it back as configured, a YAML reload replaces the list', async () => {
    const res = await grpcCall<{ status: { error_code: string } }>(models, 'HandleReloadConfigRequest', {
      config: {
        model_config_list: {
          config: [{ name: 'half_plus_two', base_path: path.join(REPO_ROOT, 'models/half_plus_two') }],
        },
      },
    });
    assert.equal(res.status.error_code, 'OK');
    assert.equal((await predict('half_plus_two_tfjs')).status, 404);
    // Still known (the ReloadConfig merge), so the repository lists it, unloaded.
    assert.deepEqual(await index(), ['half_plus_two:READY', 'half_plus_two_tfjs:UNAVAILABLE']);

    const load = await postJson(`${ts.restUrl}/v2/repository/models/half_plus_two_tfjs/load`, {});
    assert.equal(load.status, 200, load.text);
    const back = await predict('half_plus_two_tfjs');
    assert.deepEqual([back.status, back.body], [200, { predictions: [2.5, 3.0, 4.5] }]);
    // Loaded back with its YAML settings: its queue batches at most 4 rows.
    const tooBig = await postJson(`${ts.restUrl}/v1/models/half_plus_two_tfjs:predict`, {
      instances: [1, 2, 3, 4, 5],
    });
    assert.equal(tooBig.status, 400, tooBig.text);
    assert.match(String(tooBig.body?.error), /larger than maximum input batch size 4/);

    await ts.server.reloadConfig(buildConfig(raw([TFJS]), 'test', REPO_ROOT));
    assert.deepEqual(await index(), ['half_plus_two_tfjs:READY']);
    assert.equal((await predict('half_plus_two')).status, 404);

    // The admin report names loaded versions from the core's registry (model and version, not keys).
    const report = await getJson(`${ts.restUrl}/admin/tenants`);
    assert.equal(report.status, 200);
    const body = report.body as { models: { model: string; version: number }[] };
    const rows = body.models.map((m) => `${m.model}/${m.version}`);
    assert.ok(rows.includes('half_plus_two_tfjs/1'), rows.join(', '));
  });
});
