import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WarmupObserver } from './warmup-runner.js';

/** Microsecond buckets from 1 ms to about 10 min, for whole warmups. */
const WARMUP_MICROS_BUCKETS = [
  1e3, 5e3, 1e4, 5e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7, 3e7, 6e7, 1.2e8, 3e8, 6e8,
];

/**
 * Registers the warmup metrics and returns the observer that feeds them:
 * `:tensorflow:serving:model_warmup_latency` (histogram, µs, TF Serving's name) per model and
 * status, `tensorserve_model_warmup_requests_total` per model and source, and
 * `tensorserve_model_warmup_seconds` (the last warmup of each model version). Model names come
 * from the config, so the label sets are bounded by it.
 */
export function registerWarmupMetrics(registry: Registry): WarmupObserver {
  const latency = new Histogram({
    name: ':tensorflow:serving:model_warmup_latency',
    help: 'Time to warm up a model version before it became AVAILABLE, in microseconds',
    labelNames: ['model_name', 'status'],
    buckets: WARMUP_MICROS_BUCKETS,
    registers: [registry],
  });
  const requests = new Counter({
    name: 'tensorserve_model_warmup_requests_total',
    help: 'Warmup requests run before versions became AVAILABLE (source: file or declared)',
    labelNames: ['model_name', 'source'],
    registers: [registry],
  });
  const last = new Gauge({
    name: 'tensorserve_model_warmup_seconds',
    help: 'Duration of the last warmup of each model version',
    labelNames: ['model_name', 'version'],
    registers: [registry],
  });
  return (target, result, code) => {
    if (result.source === 'none' || result.source === 'disabled') return;
    latency.observe({ model_name: target.model, status: code }, Math.round(result.millis * 1000));
    requests.inc({ model_name: target.model, source: result.source }, result.requests);
    last.set({ model_name: target.model, version: String(target.version) }, result.millis / 1000);
  };
}
