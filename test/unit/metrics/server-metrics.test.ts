import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { METRIC_NAMES } from '../../../src/main/metrics/metric-families.js';
import { type RequestObservation, ServerMetrics } from '../../../src/main/metrics/server-metrics.js';
import { names, parseExposition, type Samples, value } from './exposition.js';

const TIMINGS = { computeInputMicros: 5, computeInferMicros: 100, computeOutputMicros: 7 };

function request(over: Partial<RequestObservation> = {}): RequestObservation {
  return {
    model: 'mnist',
    version: 1,
    tenant: undefined,
    api: 'predict',
    entrypoint: 'REST',
    code: 'OK',
    latencyMicros: 200,
    rows: 2,
    queueMicros: 40,
    timings: TIMINGS,
    ...over,
  };
}

async function scrape(m: ServerMetrics): Promise<Samples> {
  return parseExposition(await m.metricsText());
}

const mv = { model: 'mnist', version: '1' };

describe('ServerMetrics: TF Serving metrics', () => {
  it('counts requests by status and observes request, runtime and queuing latency', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordRequest(request());
    const before = await scrape(m);
    m.recordRequest(request({ latencyMicros: 10 }));
    m.recordRequest(request({ latencyMicros: 1000 }));
    m.recordRequest(
      request({ code: 'INVALID_ARGUMENT', latencyMicros: 30, timings: undefined, queueMicros: 0 }),
    );
    const after = await scrape(m);

    const count = (s: Samples, status: string) =>
      value(s, METRIC_NAMES.requestCount, { model_name: 'mnist', status });
    assert.equal(count(after, 'OK') - count(before, 'OK'), 2);
    assert.equal(count(after, 'INVALID_ARGUMENT') - count(before, 'INVALID_ARGUMENT'), 1);

    const rl = { model_name: 'mnist', API: 'predict', entrypoint: 'REST' };
    assert.equal(value(after, `${METRIC_NAMES.requestLatency}_count`, rl), 4);
    assert.equal(value(after, `${METRIC_NAMES.requestLatency}_sum`, rl), 200 + 10 + 1000 + 30);
    // Buckets are TF Serving's (10 µs × 1.8^i), inclusive upper bounds, cumulative.
    assert.equal(value(after, `${METRIC_NAMES.requestLatency}_bucket`, { ...rl, le: '10' }), 1);
    assert.equal(value(after, `${METRIC_NAMES.requestLatency}_bucket`, { ...rl, le: '32.4' }), 2);
    assert.equal(value(after, `${METRIC_NAMES.requestLatency}_bucket`, { ...rl, le: '+Inf' }), 4);

    // Runtime and queuing latency come from successful requests that ran in a batch.
    const rt = { model_name: 'mnist', API: 'predict', runtime: 'unknown' };
    assert.equal(value(after, `${METRIC_NAMES.runtimeLatency}_count`, rt), 3);
    assert.equal(value(after, `${METRIC_NAMES.runtimeLatency}_sum`, rt), 3 * 112);
    assert.equal(value(after, `${METRIC_NAMES.queuingLatency}_count`, { thread_pool_name: 'mnist' }), 3);
  });

  it('labels runtime latency with the runtime given', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordRequest(request({ runtime: 'onnx', api: 'infer', entrypoint: 'GRPC' }));
    const s = await scrape(m);
    assert.equal(
      value(s, `${METRIC_NAMES.runtimeLatency}_count`, {
        model_name: 'mnist',
        API: 'infer',
        runtime: 'onnx',
      }),
      1,
    );
  });

  it('records batch sizes and padding per execution batch size', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordBatch({
      model: 'mnist',
      version: 1,
      inputBatchSize: 5,
      processedBatchSize: 8,
      paddingSize: 3,
      computeInferMicros: 90,
    });
    m.recordBatch({
      model: 'mnist',
      version: 1,
      inputBatchSize: 8,
      processedBatchSize: 8,
      paddingSize: 0,
      computeInferMicros: 95,
    });
    m.recordBatch({
      model: 'mnist',
      version: 1,
      inputBatchSize: 1,
      processedBatchSize: 1,
      paddingSize: 0,
      computeInferMicros: 20,
    });
    const s = await scrape(m);
    const l = { model_name: 'mnist', op_name: 'tensorserve_batch' };
    assert.equal(value(s, `${METRIC_NAMES.inputBatchSize}_count`, l), 3);
    assert.equal(value(s, `${METRIC_NAMES.inputBatchSize}_sum`, l), 14);
    assert.equal(value(s, `${METRIC_NAMES.processedBatchSize}_sum`, l), 17);
    const p8 = { ...l, execution_batch_size: '8' };
    assert.equal(value(s, `${METRIC_NAMES.paddingSize}_count`, p8), 2);
    assert.equal(value(s, `${METRIC_NAMES.paddingSize}_sum`, p8), 3);
    assert.equal(value(s, METRIC_NAMES.execCount, mv), 3);
  });
});

describe('ServerMetrics: Triton metrics', () => {
  it('counts successes, inferences per row and cumulative microsecond durations', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    const before = await scrape(m);
    m.recordRequest(request({ rows: 3, latencyMicros: 300, queueMicros: 50 }));
    m.recordRequest(request({ rows: 1, latencyMicros: 100, queueMicros: 20 }));
    m.recordRequest(request({ code: 'UNAVAILABLE', latencyMicros: 9, rows: 4, timings: undefined }));
    const s = await scrape(m);
    assert.equal(value(before, METRIC_NAMES.requestSuccess, mv), 0);
    assert.equal(value(s, METRIC_NAMES.requestSuccess, mv), 2);
    assert.equal(value(s, METRIC_NAMES.inferenceCount, mv), 4);
    assert.equal(value(s, METRIC_NAMES.requestDuration, mv), 400);
    assert.equal(value(s, METRIC_NAMES.queueDuration, mv), 70);
    assert.equal(value(s, METRIC_NAMES.computeInputDuration, mv), 10);
    assert.equal(value(s, METRIC_NAMES.computeInferDuration, mv), 200);
    assert.equal(value(s, METRIC_NAMES.computeOutputDuration, mv), 14);
  });

  it('reports failures with their reason', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    for (const code of [
      'UNAVAILABLE',
      'RESOURCE_EXHAUSTED',
      'CANCELLED',
      'INTERNAL',
      'INVALID_ARGUMENT',
      'NOT_FOUND',
    ]) {
      m.recordRequest(request({ code, timings: undefined }));
    }
    const s = await scrape(m);
    const failure = (reason: string) => value(s, METRIC_NAMES.requestFailure, { ...mv, reason });
    assert.equal(failure('REJECTED'), 2);
    assert.equal(failure('CANCELED'), 1);
    assert.equal(failure('BACKEND'), 1);
    assert.equal(failure('OTHER'), 2);
    assert.equal(value(s, METRIC_NAMES.requestSuccess, mv), 0);
    assert.equal(value(s, METRIC_NAMES.inferenceCount, mv), 0);
  });

  it('counts a code outside the closed set as UNKNOWN, and a failure before version resolution under version ""', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordRequest(request({ code: 'BOGUS', timings: undefined }));
    m.recordRequest(request({ model: 'nope', version: undefined, code: 'NOT_FOUND', timings: undefined }));
    const s = await scrape(m);
    assert.equal(value(s, METRIC_NAMES.requestCount, { model_name: 'mnist', status: 'UNKNOWN' }), 1);
    assert.equal(value(s, METRIC_NAMES.requestFailure, { ...mv, reason: 'BACKEND' }), 1);
    assert.equal(value(s, METRIC_NAMES.requestCount, { model_name: '__unknown__', status: 'NOT_FOUND' }), 1);
    assert.equal(
      value(s, METRIC_NAMES.requestFailure, { model: '__unknown__', version: '', reason: 'OTHER' }),
      1,
    );
    assert.ok(![...s.keys()].some((k) => k.includes('nope')));
  });

  it('reads pending requests and device gauges from the providers on each scrape', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    let pending = 3;
    m.setPendingProvider(() => [{ model: 'mnist', version: 1, pending }]);
    m.setDeviceProvider(() => [
      { device: 'cpu', utilization: 0.5, queueDepth: 2 },
      { device: 'cuda:0', utilization: 1, queueDepth: 7 },
    ]);
    assert.equal(value(await scrape(m), METRIC_NAMES.pendingRequests, mv), 3);
    pending = 0;
    const s = await scrape(m);
    assert.equal(s.get(`${METRIC_NAMES.pendingRequests}{model="mnist",version="1"}`), 0);
    assert.equal(value(s, METRIC_NAMES.deviceUtilization, { device: 'cpu' }), 0.5);
    assert.equal(value(s, METRIC_NAMES.deviceQueueDepth, { device: 'cuda:0' }), 7);
  });

  it('keeps scraping when a provider throws', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.setDeviceProvider(() => {
      throw new Error('pool gone');
    });
    m.recordRequest(request());
    const s = await scrape(m);
    assert.equal(value(s, METRIC_NAMES.requestSuccess, mv), 1);
    assert.ok(!names(s).has(METRIC_NAMES.deviceUtilization));
  });
});

describe('ServerMetrics: model versions', () => {
  it('reports the version state number and observes load durations', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordVersionState('mnist', 1, 'START');
    m.recordVersionState('mnist', 1, 'LOADING');
    assert.equal(value(await scrape(m), METRIC_NAMES.versionState, mv), 20);
    m.recordVersionState('mnist', 1, 'AVAILABLE', 1500);
    m.recordVersionState('mnist', 2, 'AVAILABLE', 250);
    m.recordVersionState('mnist', 1, 'END');
    const s = await scrape(m);
    assert.equal(value(s, METRIC_NAMES.versionState, mv), 50);
    assert.equal(value(s, METRIC_NAMES.versionState, { model: 'mnist', version: '2' }), 30);
    assert.equal(value(s, `${METRIC_NAMES.loadDuration}_count`, { model: 'mnist' }), 2);
    assert.equal(value(s, `${METRIC_NAMES.loadDuration}_sum`, { model: 'mnist' }), 1.75);
    assert.equal(value(s, `${METRIC_NAMES.loadDuration}_bucket`, { model: 'mnist', le: '0.25' }), 1);
  });
});

describe('ServerMetrics: label cardinality', () => {
  it('has no tenant label when tenancy is off', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordRequest(request({ tenant: 'acme' }));
    const text = await m.metricsText();
    assert.ok(!text.includes('tenant='));
    assert.equal(value(parseExposition(text), METRIC_NAMES.requestSuccess, mv), 1);
  });

  it('bounds tenant label values at maxTenantLabels, the rest as __other__', async () => {
    const m = new ServerMetrics({ defaultMetrics: false, tenantLabel: true, maxTenantLabels: 2 });
    for (const tenant of ['a', 'b', 'c', 'd', 'a', 'c']) m.recordRequest(request({ tenant }));
    const s = await scrape(m);
    const ok = (tenant: string) =>
      value(s, METRIC_NAMES.requestCount, { model_name: 'mnist', status: 'OK', tenant });
    assert.equal(ok('a'), 2);
    assert.equal(ok('b'), 1);
    assert.equal(ok('__other__'), 3);
    assert.equal(value(s, METRIC_NAMES.requestSuccess, { ...mv, tenant: '__other__' }), 3);
    assert.equal(value(s, METRIC_NAMES.inferenceCount, { ...mv, tenant: '__other__' }), 6);
    const tenants = new Set([...(await m.metricsText()).matchAll(/tenant="([^"]*)"/g)].map((x) => x[1]));
    assert.deepEqual([...tenants].sort(), ['__other__', 'a', 'b']);
  });

  it('bounds model label values at maxModelLabels', async () => {
    const m = new ServerMetrics({ defaultMetrics: false, maxModelLabels: 1 });
    m.recordRequest(request());
    m.recordVersionState('served-1', 1, 'AVAILABLE');
    m.recordVersionState('served-2', 1, 'AVAILABLE');
    m.recordRequest(request({ model: 'served-1', code: 'OK' }));
    m.recordRequest(request({ model: 'served-2', code: 'OK' }));
    const s = await scrape(m);
    assert.equal(value(s, METRIC_NAMES.requestCount, { model_name: '__other__', status: 'OK' }), 2);
    assert.ok(![...s.keys()].some((k) => k.includes('served-')));
  });

  it('records every name that never had a version under one __unknown__ series', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    for (let i = 0; i < 50; i++)
      m.recordRequest(request({ model: `random-${i}`, version: undefined, code: 'NOT_FOUND' }));
    const s = await scrape(m);
    assert.equal(value(s, METRIC_NAMES.requestCount, { model_name: '__unknown__', status: 'NOT_FOUND' }), 50);
    assert.ok(![...s.keys()].some((k) => k.includes('random-')));
  });
});

describe('ServerMetrics: registry', () => {
  it('accepts TF Serving names with a leading colon and uses the Prometheus text content type', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    assert.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    const text = await m.metricsText();
    assert.match(text, /^# TYPE :tensorflow:serving:request_count counter$/m);
    assert.match(text, /^# TYPE :tensorflow:serving:request_latency histogram$/m);
    assert.match(text, /^# TYPE nv_inference_request_success counter$/m);
  });

  it('includes the default process metrics only when asked', async () => {
    const on = names(await scrape(new ServerMetrics()));
    assert.ok(on.has('process_cpu_user_seconds_total'));
    assert.ok(on.has('nodejs_eventloop_lag_seconds'));
    const off = names(await scrape(new ServerMetrics({ defaultMetrics: false })));
    assert.ok(!off.has('process_cpu_user_seconds_total'));
  });
});
