/**
 * The front ends' ceilings for the latency benchmark: fastify and grpc-js doing everything a
 * server must do with a request except inference. REST parses the body as tensorserve would
 * (JSON.parse for JSON, the raw bytes for the v2 binary extension) and answers a 10-float
 * prediction; gRPC decodes Predict / ModelInfer with proto-loader's codec (as tensorserve's
 * general path does) and answers a 1×10 float tensor.
 *
 *   node dist/load-tests/echo-server.js --port 8611 --grpc-port 8612
 *
 * Answers `GET /readyz` (200), `POST /v1/models/*`, `POST /v2/models/*`, and the two RPCs.
 */
import * as grpc from '@grpc/grpc-js';
import Fastify from 'fastify';
import { loadProtos, serviceDefinition } from '../src/main/grpc/grpc-protos.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const TEN = Array.from({ length: 10 }, (_, i) => i / 10);
const TEN_BYTES = Buffer.from(new Float32Array(TEN).buffer);

const app = Fastify({ logger: false, bodyLimit: 256 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
  try {
    done(null, JSON.parse(body as string));
  } catch (err) {
    done(err as Error, undefined);
  }
});
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.get('/readyz', async () => 'ok');
app.post('/v1/models/*', async () => ({ predictions: [TEN] }));
app.post('/v2/models/*', async (request, reply) => {
  if (Buffer.isBuffer(request.body)) {
    const header = Buffer.from(
      JSON.stringify({
        model_name: 'echo',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 10], parameters: { binary_data_size: 40 } }],
      }),
    );
    reply.header('inference-header-content-length', String(header.length));
    reply.type('application/octet-stream');
    return Buffer.concat([header, TEN_BYTES]);
  }
  return { model_name: 'echo', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 10], data: TEN }] };
});

const protos = loadProtos();
const server = new grpc.Server();
server.addService(serviceDefinition(protos, 'tensorflow.serving.PredictionService'), {
  Predict: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
    cb(null, {
      model_spec: { name: 'echo', version: { value: '1' }, signature_name: 'serving_default' },
      outputs: {
        y: {
          dtype: 'DT_FLOAT',
          tensor_shape: { dim: [{ size: '1' }, { size: '10' }] },
          tensor_content: TEN_BYTES,
        },
      },
    }),
});
server.addService(serviceDefinition(protos, 'inference.GRPCInferenceService'), {
  ModelInfer: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
    cb(null, {
      model_name: 'echo',
      model_version: '1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['1', '10'] }],
      raw_output_contents: [TEN_BYTES],
    }),
});
await new Promise<void>((resolve, reject) =>
  server.bindAsync(`127.0.0.1:${arg('grpc-port')}`, grpc.ServerCredentials.createInsecure(), (err) =>
    err ? reject(err) : resolve(),
  ),
);
await app.listen({ host: '127.0.0.1', port: Number(arg('port')) });
console.log(JSON.stringify({ msg: 'echo server ready' }));
const stop = () => {
  server.forceShutdown();
  void app.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
