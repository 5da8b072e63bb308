/**
 * The naive peer server (issue 3's baseline (a)): fastify with onnxruntime-node called
 * directly in the request handler. No batching, no worker threads, no validation beyond
 * what it needs: TF Serving's `{"instances": [...]}` is parsed with JSON.parse and
 * flattened into one Float32Array. Threads: intraOpNumThreads and interOpNumThreads as
 * given (default 1, the same as tensorserve's `intra_op_threads: 1`).
 *
 *   node dist/load-tests/naive-server.js --model models/cnn/1/model.onnx --port 8601 [--threads 1]
 *
 * Answers `GET /readyz` (200) and `POST /v1/models/<any>:predict`.
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

/** Appends every number of a nested array to `out` and returns the nested shape. */
function flatten(value: unknown, out: number[], shape: number[], depth: number): void {
  if (Array.isArray(value)) {
    if (shape.length === depth) shape.push(value.length);
    for (const v of value) flatten(v, out, shape, depth + 1);
  } else {
    out.push(value as number);
  }
}

function nestRows(data: Float32Array, dims: readonly number[]): unknown[] {
  const rows: unknown[] = [];
  const rowSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const nest = (off: number, d: readonly number[]): unknown => {
    if (d.length === 0) return data[off];
    const step = d.slice(1).reduce((a, b) => a * b, 1);
    return Array.from({ length: d[0] }, (_, i) => nest(off + i * step, d.slice(1)));
  };
  for (let r = 0; r < dims[0]; r++) rows.push(nest(r * rowSize, dims.slice(1)));
  return rows;
}

const threads = Number(arg('threads', '1'));
const session = await ort.InferenceSession.create(arg('model'), {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});
const inputName = session.inputNames[0];
const outputName = session.outputNames[0];

const app = Fastify({ logger: false, bodyLimit: 256 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
  try {
    done(null, JSON.parse(body as string));
  } catch (err) {
    done(err as Error, undefined);
  }
});
app.get('/readyz', async () => 'ok');
app.post('/v1/models/*', async (request, reply) => {
  const instances = (request.body as { instances?: unknown }).instances;
  if (!Array.isArray(instances) || !request.url.endsWith(':predict'))
    return reply.code(400).send({ error: 'expected POST :predict with {"instances": [...]}' });
  const values: number[] = [];
  const shape: number[] = [];
  flatten(instances, values, shape, 0);
  const input = new ort.Tensor('float32', Float32Array.from(values), shape);
  const result = await session.run({ [inputName]: input });
  const out = result[outputName];
  return { predictions: nestRows(out.data as Float32Array, out.dims) };
});

const port = Number(arg('port', '8601'));
await app.listen({ host: '127.0.0.1', port });
console.log(JSON.stringify({ msg: 'naive server ready', port, threads }));
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
