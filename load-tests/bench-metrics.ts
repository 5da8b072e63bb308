/**
 * Micro-benchmark of the metrics hot path: ns per recordRequest + recordBatch pair, against
 * an empty function-call loop of the same shape in the same run (the baseline).
 *
 *   npx tsc -p tsconfig.json && node dist/load-tests/bench-metrics.js [iterations]
 */
import { Counter, Histogram, Registry } from 'prom-client';
import {
  type BatchObservation,
  type RequestObservation,
  ServerMetrics,
} from '../src/main/metrics/server-metrics.js';

const iterations = Number(process.argv[2] ?? 2_000_000);
const metrics = new ServerMetrics({ defaultMetrics: false, tenantLabel: true });
const models = ['mnist', 'resnet', 'bert', 'ocr'];
const tenants = ['acme', 'globex', 'initech'];
const codes = ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'UNAVAILABLE'];

// Prebuilt observations: the benchmark measures recording, not object construction.
const requests: RequestObservation[] = [];
const batches: BatchObservation[] = [];
for (let i = 0; i < 64; i++) {
  const model = models[i % models.length];
  requests.push({
    model,
    version: 1 + (i % 2),
    tenant: tenants[i % tenants.length],
    api: i % 3 === 0 ? 'infer' : 'predict',
    entrypoint: i % 2 === 0 ? 'REST' : 'GRPC',
    code: codes[i % codes.length],
    latencyMicros: 50 + ((i * 97) % 5000),
    rows: 1 + (i % 4),
    queueMicros: (i * 31) % 800,
    timings: { computeInputMicros: 3, computeInferMicros: 40 + (i % 200), computeOutputMicros: 4 },
    runtime: 'onnx',
  });
  batches.push({
    model,
    version: 1 + (i % 2),
    inputBatchSize: 1 + (i % 30),
    processedBatchSize: 32,
    paddingSize: 31 - (i % 30),
    computeInferMicros: 300 + i,
    computeInputMicros: 10,
    computeOutputMicros: 12,
  });
}

let sink = 0;
function empty(o: RequestObservation): void {
  sink += o.rows;
}
function emptyBatch(o: BatchObservation): void {
  sink += o.inputBatchSize;
}

function time(label: string, body: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) body(i);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(`${label.padEnd(40)} ${ns.toFixed(1).padStart(8)} ns/iter`);
  return ns;
}

// Reference on the same machine and load: one cached prom-client child of each kind.
const registry = new Registry();
const promCounter = new Counter({
  name: 'ref_count',
  help: 'ref',
  labelNames: ['model', 'status'],
  registers: [registry],
});
const promHistogram = new Histogram({
  name: 'ref_latency',
  help: 'ref',
  labelNames: ['model', 'api', 'entrypoint'],
  buckets: [10, 18, 32.4, 58.32, 104.976, 188.9568, 340.12224, 612.220032, 1101.996058, 1983.592904],
  registers: [registry],
});
const counterChild = promCounter.labels('mnist', 'OK');
const histogramChild = promHistogram.labels('mnist', 'predict', 'REST');

for (let round = 0; round < 3; round++) {
  console.log(`round ${round + 1} (${iterations} iterations)`);
  const base = time('baseline: empty calls', (i) => {
    empty(requests[i & 63]);
    emptyBatch(batches[i & 63]);
  });
  const rec = time('recordRequest + recordBatch', (i) => {
    metrics.recordRequest(requests[i & 63]);
    metrics.recordBatch(batches[i & 63]);
  });
  const req = time('recordRequest alone', (i) => metrics.recordRequest(requests[i & 63]));
  const pc = time('ref: prom-client child Counter.inc', () => counterChild.inc());
  const ph = time('ref: prom-client child Histogram.observe', (i) => histogramChild.observe(i & 2047));
  console.log(`${'=> net recordRequest + recordBatch'.padEnd(40)} ${(rec - base).toFixed(1).padStart(8)} ns`);
  console.log(`${'=> net recordRequest'.padEnd(40)} ${(req - base / 2).toFixed(1).padStart(8)} ns`);
  console.log(
    `${'=> pair cost in prom-client child ops'.padEnd(40)} ${((rec - base) / pc).toFixed(1)} Counter.inc or ${((rec - base) / ph).toFixed(1)} Histogram.observe`,
  );
}

const t0 = process.hrtime.bigint();
const text = await metrics.metricsText();
console.log(
  `scrape: ${text.length} bytes in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms (sink ${sink > 0})`,
);
