/**
 * Micro-benchmark of the TF Serving REST codecs on one 28x28 image predict body, with
 * JSON.parse / JSON.stringify alone as the baseline in the same run. Prints ns/op.
 *
 *   npx tsc -p tsconfig.json && node dist/load-tests/codec-bench.js [iterations]
 */
import type { Signature } from '../src/core/signature.js';
import type { Tensor } from '../src/core/tensor.js';
import { parseJsonBody } from '../src/main/codecs/json-body.js';
import { decodePredictRequest } from '../src/main/codecs/tfs-predict-request.js';
import { encodePredictResponse } from '../src/main/codecs/tfs-predict-response.js';

const iterations = Number(process.argv[2] ?? 4000);
const limits = { maxDepth: 100 };

// Deterministic pseudo-random pixels, written as doubles the way Python clients send them.
let seed = 42;
function rand(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
const image = Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [rand()]));
const body = JSON.stringify({ instances: [image] });
const signature: Signature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 28, 28, 1] }],
  outputs: [{ name: 'probs', dtype: 'float32', shape: [-1, 10] }],
  batched: true,
  methodName: 'tensorflow/serving/predict',
};
const parsed = JSON.parse(body) as unknown;
const probs: Tensor = { dtype: 'float32', shape: [1, 10], data: new Float32Array(10).map(() => rand()) };
const imageOut: Tensor = {
  dtype: 'float32',
  shape: [1, 28, 28, 1],
  data: new Float32Array(784).map(() => rand()),
};
const probsNested = [Array.from(probs.data as Float32Array)];
const imageNested = [image];

// Best of several rounds: on a shared machine the minimum is the least disturbed figure.
const ROUNDS = 5;

function bench(name: string, fn: () => unknown): void {
  let sink = 0;
  for (let i = 0; i < Math.min(2000, iterations); i++) sink += fn() === undefined ? 0 : 1;
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += fn() === undefined ? 0 : 1;
    best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
  }
  console.log(`${name.padEnd(56)} ${best.toFixed(0).padStart(9)} ns/op${sink < 0 ? '!' : ''}`);
}

console.log(
  `body: ${body.length} bytes, best of ${ROUNDS} x ${iterations} iterations, node ${process.version}`,
);
bench('baseline JSON.parse(body)', () => JSON.parse(body));
bench('parseJsonBody(body) (depth scan + JSON.parse)', () => parseJsonBody(body, limits));
bench('decodePredictRequest(parsed)', () => decodePredictRequest(parsed, signature));
bench('parseJsonBody + decodePredictRequest', () =>
  decodePredictRequest(parseJsonBody(body, limits), signature),
);
const nanBody = body.replace(/0\.\d+\]/, 'NaN]');
bench('parseJsonBody(body with one NaN token) (slow path)', () => parseJsonBody(nanBody, limits));
bench('baseline JSON.stringify(10 probs as number[])', () => JSON.stringify({ predictions: probsNested }));
bench('encodePredictResponse(10 probs, float32 shortest)', () =>
  encodePredictResponse({ probs }, 'row', ['probs']),
);
bench('baseline JSON.stringify(28x28x1 as nested number[])', () =>
  JSON.stringify({ predictions: imageNested }),
);
bench('encodePredictResponse(28x28x1 float32 shortest)', () =>
  encodePredictResponse({ imageOut }, 'row', ['imageOut']),
);
