import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { METRIC_NAMES } from '../../../src/main/metrics/metric-families.js';
import { type RequestObservation, ServerMetrics } from '../../../src/main/metrics/server-metrics.js';
import { parseExposition, value } from './exposition.js';

function request(over: Partial<RequestObservation> = {}): RequestObservation {
  return {
    model: 'mnist',
    version: 1,
    tenant: undefined,
    api: 'infer',
    entrypoint: 'REST',
    code: 'OK',
    latencyMicros: 100,
    rows: 1,
    queueMicros: 10,
    timings: { computeInputMicros: 1, computeInferMicros: 20, computeOutputMicros: 2 },
    ...over,
  };
}

describe('ServerMetrics.stats (KServe/Triton statistics)', () => {
  it('agrees with the counters: rows, batches, successes, failures and durations', async () => {
    let clock = 1_700_000_000_000;
    const m = new ServerMetrics({ defaultMetrics: false, tenantLabel: true, now: () => clock });
    m.recordVersionState('mnist', 1, 'AVAILABLE');
    m.recordRequest(request({ rows: 3, tenant: 'a' }));
    m.recordRequest(request({ rows: 2, tenant: 'b', latencyMicros: 50 }));
    m.recordRequest(request({ rows: 5, code: 'RESOURCE_EXHAUSTED', latencyMicros: 7, timings: undefined }));
    clock += 5;
    m.recordRequest(request({ rows: 1 }));
    m.recordBatch({
      model: 'mnist',
      version: 1,
      inputBatchSize: 5,
      processedBatchSize: 8,
      paddingSize: 3,
      computeInferMicros: 40,
    });
    m.recordBatch({
      model: 'mnist',
      version: 1,
      inputBatchSize: 1,
      processedBatchSize: 1,
      paddingSize: 0,
      computeInferMicros: 9,
      computeInputMicros: 2,
      computeOutputMicros: 3,
    });
    m.recordBatch({
      model: 'mnist',
      version: 1,
      inputBatchSize: 8,
      processedBatchSize: 8,
      paddingSize: 0,
      computeInferMicros: 41,
    });

    const [s] = m.stats('mnist');
    assert.equal(s.name, 'mnist');
    assert.equal(s.version, '1');
    assert.equal(s.last_inference, clock);
    assert.equal(s.inference_count, 3 + 2 + 1);
    assert.equal(s.execution_count, 3);
    assert.deepEqual(s.inference_stats.success, { count: 3, ns: (100 + 50 + 100) * 1000 });
    assert.deepEqual(s.inference_stats.fail, { count: 1, ns: 7000 });
    assert.deepEqual(s.inference_stats.queue, { count: 3, ns: 30_000 });
    assert.deepEqual(s.inference_stats.compute_input, { count: 3, ns: 3000 });
    assert.deepEqual(s.inference_stats.compute_infer, { count: 3, ns: 60_000 });
    assert.deepEqual(s.inference_stats.compute_output, { count: 3, ns: 6000 });
    assert.deepEqual(s.batch_stats, [
      {
        batch_size: 1,
        compute_input: { count: 1, ns: 2000 },
        compute_infer: { count: 1, ns: 9000 },
        compute_output: { count: 1, ns: 3000 },
      },
      {
        batch_size: 8,
        compute_input: { count: 2, ns: 0 },
        compute_infer: { count: 2, ns: 81_000 },
        compute_output: { count: 2, ns: 0 },
      },
    ]);

    // Same accumulators behind the exposition: sum the tenant series.
    const samples = parseExposition(await m.metricsText());
    const sum = (name: string) =>
      [...samples]
        .filter(([k]) => k.startsWith(`${name}{`) && k.includes('model="mnist"'))
        .reduce((acc, [, v]) => acc + v, 0);
    assert.equal(sum(METRIC_NAMES.inferenceCount), s.inference_count);
    assert.equal(sum(METRIC_NAMES.requestSuccess), s.inference_stats.success.count);
    assert.equal(sum(METRIC_NAMES.requestFailure), s.inference_stats.fail.count);
    assert.equal(sum(METRIC_NAMES.requestDuration) * 1000, s.inference_stats.success.ns);
    assert.equal(value(samples, METRIC_NAMES.execCount, { model: 'mnist', version: '1' }), s.execution_count);
    assert.equal(
      value(samples, METRIC_NAMES.queueDuration, { model: 'mnist', version: '1' }) * 1000,
      s.inference_stats.queue.ns,
    );
  });

  it('lists versions ascending, filters by version, and reports loaded versions with zeros', () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordVersionState('mnist', 3, 'AVAILABLE');
    m.recordRequest(request({ version: 2 }));
    m.recordRequest(request({ model: 'other' }));
    assert.deepEqual(
      m.stats('mnist').map((s) => s.version),
      ['2', '3'],
    );
    const [v3] = m.stats('mnist', 3);
    assert.equal(v3.inference_count, 0);
    assert.equal(v3.last_inference, 0);
    assert.deepEqual(v3.inference_stats.success, { count: 0, ns: 0 });
    assert.deepEqual(v3.batch_stats, []);
    assert.deepEqual(m.stats('mnist', 9), []);
    assert.deepEqual(m.stats('unknown'), []);
    assert.deepEqual(
      m.stats().map((s) => `${s.name}/${s.version}`),
      ['mnist/2', 'mnist/3', 'other/1'],
    );
    assert.deepEqual(m.statsResponse('mnist', 2), { model_stats: m.stats('mnist', 2) });
  });

  it('leaves failures that never resolved a version out of the statistics', () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    m.recordRequest(request({ version: undefined, code: 'NOT_FOUND', timings: undefined }));
    assert.deepEqual(m.stats('mnist'), []);
  });
});
