import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { sha256Hex } from '../../src/main/config/tenant-config.js';
import {
  bearer,
  floatTensor,
  type GrpcClient,
  grpcCall,
  grpcClient,
  grpcError,
} from '../fixtures/grpc-client.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * The limited tenant's bucket (0.001 tokens/s) is empty, so the next token is 1000 s away less
 * the time since it emptied: whole seconds, 1000 unless the machine took over a second between
 * requests (then 999, ...). The answer must be that wait, in whole seconds.
 */
function assertRetryAfter(value: unknown): void {
  const seconds = Number(value);
  assert.ok(Number.isInteger(seconds) && seconds >= 990 && seconds <= 1000, `retry-after ${String(value)}`);
}

const ACME = 'acme-secret';
const LIMITED = 'limited-secret';

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown> | undefined;
  readonly socket: Socket;
  readonly reusedSocket: boolean;
}

/**
 * POSTs `body` through `agent`. With `holdBody`, only the headers (declaring the body's
 * length) go out first and the body follows once the response has arrived, so the response
 * proves the server answered without reading the body. Without the early answer the server
 * waits for the body and the test fails on its timeout.
 */
function post(
  agent: http.Agent,
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
  holdBody = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(body);
    const req = http.request({
      agent,
      host: '127.0.0.1',
      port,
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...headers },
    });
    let socket: Socket | undefined;
    req.on('socket', (s) => {
      socket = s;
    });
    req.on('error', reject);
    req.on('response', (res) => {
      if (holdBody) req.end(data);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
          socket: socket!,
          reusedSocket: req.reusedSocket,
        });
      });
    });
    if (holdBody) req.flushHeaders();
    else req.end(data);
  });
}

/** A valid TF Serving predict body of `n` instances (about 2 bytes each). */
const tfsBody = (n = 2) => JSON.stringify({ instances: new Array<number>(n).fill(1) });
const v2Body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] });

/*
 * Identity and the rate quota are checked in an onRequest hook, before fastify reads the
 * body. `limited` has a burst of 2 and a rate that never refills during the test.
 */
describe('tenant admission on arrival (REST, before the body is read)', { timeout: 60_000 }, () => {
  let ts: TestServer;
  let port: number;
  let predict: GrpcClient;

  before(async () => {
    ts = await startTestServer({
      tenants: [
        { id: 'acme', api_keys: [{ sha256: sha256Hex(ACME) }], shared_models: ['shared'] },
        {
          id: 'limited',
          api_keys: [{ sha256: sha256Hex(LIMITED) }],
          shared_models: ['shared'],
          quotas: { requests_per_second: 0.001, burst: 2 },
        },
      ],
      model_defaults: { load_retries: 0 },
      models: [{ name: 'shared', base_path: 'models/half_plus_two' }],
    });
    port = ts.server.restPort;
    predict = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
  });

  after(async () => {
    predict.close();
    await ts.close();
  });

  it('takes one token per request: a burst of 2 admits two requests, the core takes no second token', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        const ok = await post(agent, port, '/v1/models/shared:predict', bearer(LIMITED), tfsBody());
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.deepEqual(ok.body, { predictions: [2.5, 2.5] });
      }
      const over = await post(agent, port, '/v1/models/shared:predict', bearer(LIMITED), tfsBody());
      assert.equal(over.status, 429);
      assertRetryAfter(over.headers['retry-after']);
      assert.deepEqual(over.body, { error: 'Tenant rate quota exceeded: 0.001 requests/s' });
    } finally {
      agent.destroy();
    }
  });

  it('answers a throttled request with 429 before its body is sent; the keep-alive socket then serves an allowed request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // About 200 KB: the server has to discard it over several reads before the next request.
      const big = tfsBody(100_000);
      const throttled = await post(agent, port, '/v1/models/shared:predict', bearer(LIMITED), big, true);
      assert.equal(throttled.status, 429, JSON.stringify(throttled.body));
      assertRetryAfter(throttled.headers['retry-after']);
      assert.match(String(throttled.body?.error), /rate quota/);
      assert.notEqual(throttled.headers.connection, 'close');

      const allowed = await post(agent, port, '/v1/models/shared:predict', bearer(ACME), tfsBody());
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
      assert.deepEqual(allowed.body, { predictions: [2.5, 2.5] });
      assert.equal(allowed.reusedSocket, true);
      assert.equal(allowed.socket, throttled.socket);

      // KServe v2 /infer the same way, still on the same socket.
      const v2 = await post(agent, port, '/v2/models/shared/infer', bearer(LIMITED), v2Body, true);
      assert.equal(v2.status, 429, JSON.stringify(v2.body));
      assertRetryAfter(v2.headers['retry-after']);
      const v2ok = await post(agent, port, '/v2/models/shared/infer', bearer(ACME), v2Body);
      assert.equal(v2ok.status, 200, JSON.stringify(v2ok.body));
      assert.equal(v2ok.socket, throttled.socket);
    } finally {
      agent.destroy();
    }
  });

  it('answers 401 before the body is sent, with the same messages, and keeps the socket', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const none = await post(agent, port, '/v1/models/shared:predict', {}, tfsBody(), true);
      assert.equal(none.status, 401);
      assert.deepEqual(none.body, { error: 'Missing API key' });
      const wrong = await post(agent, port, '/v2/models/shared/infer', bearer('nope'), v2Body, true);
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, { error: 'Invalid API key' });
      const allowed = await post(agent, port, '/v1/models/shared:predict', bearer(ACME), tfsBody());
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
      assert.equal(allowed.socket, none.socket);
    } finally {
      agent.destroy();
    }
  });

  it("never parses a throttled request's body: malformed JSON gets the 429, an admitted one the 400", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const throttled = await post(
        agent,
        port,
        '/v1/models/shared:predict',
        bearer(LIMITED),
        '{"instances": [',
      );
      assert.equal(throttled.status, 429, JSON.stringify(throttled.body));
      const admitted = await post(agent, port, '/v1/models/shared:predict', bearer(ACME), '{"instances": [');
      assert.equal(admitted.status, 400, JSON.stringify(admitted.body));
    } finally {
      agent.destroy();
    }
  });

  it('gRPC keeps its behaviour: the same bucket refuses with RESOURCE_EXHAUSTED and a retry-after trailer', async () => {
    const err = await grpcError(
      grpcCall(
        predict,
        'Predict',
        { model_spec: { name: 'shared' }, inputs: { x: floatTensor([1]) } },
        bearer(LIMITED),
      ),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    assert.match(err.details, /rate quota/);
    assertRetryAfter(err.metadata.get('retry-after')[0]);
    await grpcCall(
      predict,
      'Predict',
      { model_spec: { name: 'shared' }, inputs: { x: floatTensor([1]) } },
      bearer(ACME),
    );
  });
});
