import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { registerMetricsRoutes } from '../../../src/main/metrics/metrics-routes.js';
import { ServerMetrics } from '../../../src/main/metrics/server-metrics.js';

describe('metrics routes', () => {
  it('serve the exposition at TF Serving’s path and at /metrics', async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false });
    metrics.recordRequest({
      model: 'mnist',
      version: 1,
      tenant: undefined,
      api: 'predict',
      entrypoint: 'REST',
      code: 'OK',
      latencyMicros: 120,
      rows: 1,
      queueMicros: 3,
    });
    const app = Fastify();
    registerMetricsRoutes(app, metrics);
    try {
      for (const url of ['/monitoring/prometheus/metrics', '/metrics']) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
        assert.match(res.body, /^:tensorflow:serving:request_count\{model_name="mnist",status="OK"\} 1$/m);
        assert.match(res.body, /^:tensorflow:serving:request_latency_count\{/m);
        assert.match(res.body, /^nv_inference_request_success\{model="mnist",version="1"\} 1$/m);
      }
    } finally {
      await app.close();
    }
  });
});
