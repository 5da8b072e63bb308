import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/main/grpc/grpc-protos.js';
import { METRIC_NAMES } from '../../src/main/metrics/metric-families.js';
import { getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';
import { parseExposition, type Samples, value } from '../unit/metrics/exposition.js';

const MODEL = 'half_plus_two';
const SECRET = 'Bearer do-not-log-this-7f3a9c';
// Distinctive tensor values (input and half_plus_two's output) that must never reach the logs.
const SECRET_INPUT = 8675.3095;
const SECRET_OUTPUT = '4339.65';

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

function predictClient(address: string): Client {
  let node: unknown = loadProtos().grpcObject;
  for (const part of 'tensorflow.serving.PredictionService'.split('.'))
    node = (node as Record<string, unknown>)[part];
  const Ctor = node as new (address: string, creds: grpc.ChannelCredentials) => Client;
  return new Ctor(address, grpc.credentials.createInsecure());
}

async function scrape(url: string, path: string): Promise<Samples> {
  const res = await fetch(url + path);
  assert.equal(res.status, 200);
  return parseExposition(await res.text());
}

describe('observability end to end (metrics, statistics, logs)', () => {
  let ts: TestServer;
  let url: string;
  const logLines: string[] = [];

  before(async () => {
    ts = await startTestServer(
      {
        server: { access_log_sample_rate: 1, log_level: 'info' },
        models: [{ name: MODEL, base_path: 'models/half_plus_two' }],
      },
      undefined,
      { write: (line: string) => logLines.push(line) },
    );
    url = ts.restUrl;
  });

  after(async () => {
    await ts.close();
  });

  it('moves the TF Serving and Triton metrics by what the requests did, on both paths', async () => {
    const beforeTfs = await scrape(url, '/monitoring/prometheus/metrics');
    const before = await scrape(url, '/metrics');
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${url}/v1/models/${MODEL}:predict`, { instances: [1, 2, 3] });
      assert.equal(res.status, 200, res.text);
    }
    const v2 = await postJson(`${url}/v2/models/${MODEL}/infer`, {
      inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1, 2] }],
    });
    assert.equal(v2.status, 200, v2.text);
    const missing = await postJson(`${url}/v1/models/nosuch_model:predict`, { instances: [1] });
    assert.equal(missing.status, 404);
    const after = await scrape(url, '/metrics');
    const afterTfs = await scrape(url, '/monitoring/prometheus/metrics');

    for (const [b, a] of [
      [before, after],
      [beforeTfs, afterTfs],
    ]) {
      const delta = (name: string, labels: Record<string, string>) =>
        value(a, name, labels) - value(b, name, labels);
      const mv = { model: MODEL, version: '1' };
      assert.equal(delta(METRIC_NAMES.requestCount, { model_name: MODEL, status: 'OK' }), 4);
      assert.equal(
        delta(`${METRIC_NAMES.requestLatency}_count`, {
          model_name: MODEL,
          API: 'predict',
          entrypoint: 'REST',
        }),
        3,
      );
      assert.equal(
        delta(`${METRIC_NAMES.requestLatency}_count`, {
          model_name: MODEL,
          API: 'infer',
          entrypoint: 'REST',
        }),
        1,
      );
      assert.equal(
        delta(`${METRIC_NAMES.runtimeLatency}_count`, { model_name: MODEL, API: 'predict', runtime: 'onnx' }),
        3,
      );
      assert.equal(delta(METRIC_NAMES.requestSuccess, mv), 4);
      assert.equal(delta(METRIC_NAMES.inferenceCount, mv), 3 * 3 + 2);
      const execs = delta(METRIC_NAMES.execCount, mv);
      assert.ok(execs >= 1 && execs <= 4, `exec count moved by ${execs}`);
      assert.equal(
        delta(`${METRIC_NAMES.inputBatchSize}_sum`, { model_name: MODEL, op_name: 'tensorserve_batch' }),
        11,
      );
      assert.equal(delta(METRIC_NAMES.requestCount, { model_name: '__unknown__', status: 'NOT_FOUND' }), 1);
      assert.ok(delta(METRIC_NAMES.computeInferDuration, mv) > 0);
      assert.ok(![...a.keys()].some((k) => k.includes('nosuch_model')));
    }
    assert.ok(value(after, METRIC_NAMES.deviceBusySeconds, { device: 'cpu' }) > 0);
    assert.ok(after.has(`${METRIC_NAMES.deviceQueueDepth}{device="cpu"}`));
  });

  it('reports statistics that agree with the metrics', async () => {
    const metrics = await scrape(url, '/metrics');
    const res = await getJson(`${url}/v2/models/${MODEL}/stats`);
    assert.equal(res.status, 200, res.text);
    const stats = (
      res.body as {
        model_stats: {
          name: string;
          version: string;
          inference_count: number;
          inference_stats: { success: { count: number } };
        }[];
      }
    ).model_stats;
    assert.equal(stats.length, 1);
    assert.equal(stats[0].name, MODEL);
    const mv = { model: MODEL, version: '1' };
    assert.equal(stats[0].inference_stats.success.count, value(metrics, METRIC_NAMES.requestSuccess, mv));
    assert.equal(stats[0].inference_count, value(metrics, METRIC_NAMES.inferenceCount, mv));
    assert.ok(stats[0].inference_stats.success.count >= 4);
  });

  it('keeps one __unknown__ series however many unknown model names clients send', async () => {
    const before = await scrape(url, '/metrics');
    for (let i = 0; i < 25; i++) {
      const res = await postJson(`${url}/v1/models/probe_${i}:predict`, { instances: [1] });
      assert.equal(res.status, 404);
    }
    const after = await scrape(url, '/metrics');
    const models = new Set(
      [...after.keys()]
        .filter((k) => k.startsWith(`${METRIC_NAMES.requestCount}{`))
        .map((k) => /model_name="([^"]*)"/.exec(k)?.[1]),
    );
    assert.deepEqual([...models].sort(), ['__unknown__', MODEL]);
    const key = { model_name: '__unknown__', status: 'NOT_FOUND' };
    assert.equal(
      value(after, METRIC_NAMES.requestCount, key) - value(before, METRIC_NAMES.requestCount, key),
      25,
    );
  });

  it('writes JSON log lines with the echoed request id, never credentials or tensor values', async () => {
    const given = await postJson(
      `${url}/v1/models/${MODEL}:predict`,
      { instances: [SECRET_INPUT] },
      { authorization: SECRET, 'x-request-id': 'client-id-42' },
    );
    assert.equal(given.status, 200, given.text);
    assert.ok(given.text.includes(SECRET_OUTPUT), 'the output really holds the secret value');
    assert.equal(given.headers.get('x-request-id'), 'client-id-42');
    const generated = await postJson(
      `${url}/v1/models/nosuch:predict`,
      { instances: [SECRET_INPUT] },
      { 'x-api-key': SECRET },
    );
    assert.equal(generated.status, 404);
    const generatedId = generated.headers.get('x-request-id');
    assert.ok(generatedId && generatedId.length > 0);

    const client = predictClient(ts.grpcAddress);
    const md = new grpc.Metadata();
    md.set('x-request-id', 'grpc-id-7');
    md.set('authorization', SECRET);
    await new Promise<void>((resolve, reject) =>
      client.Predict(
        {
          model_spec: { name: MODEL },
          inputs: {
            x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }] }, float_val: [SECRET_INPUT] },
          },
        },
        md,
        (err: grpc.ServiceError | null) => (err ? reject(err) : resolve()),
      ),
    );
    client.close();

    const text = logLines.join('');
    const entries = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(entries.length > 0);
    const access = entries.filter((e) => e.msg === 'access');
    const rest = access.find((e) => e.request_id === 'client-id-42');
    assert.ok(rest, 'access line for the client id');
    assert.equal(rest.status, 200);
    assert.equal(rest.method, 'POST');
    assert.equal(rest.url, `/v1/models/${MODEL}:predict`);
    assert.equal(rest.model, MODEL);
    assert.equal(typeof rest.duration_ms, 'number');
    const failed = access.find((e) => e.request_id === generatedId);
    assert.ok(failed, 'access line for the generated id');
    assert.equal(failed.status, 404);
    const rpc = access.find((e) => e.request_id === 'grpc-id-7');
    assert.ok(rpc, 'access line for the gRPC call');
    assert.equal(rpc.grpc_status, 'OK');
    assert.equal(rpc.model, MODEL);

    assert.ok(!text.includes('do-not-log-this'), 'credentials in the log');
    assert.ok(
      !text.includes(String(SECRET_INPUT)) && !text.includes(SECRET_OUTPUT),
      'tensor values in the log',
    );
  });
});
