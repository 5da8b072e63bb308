import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { grpcCall, grpcClient, grpcError } from '../fixtures/grpc-client.js';
import { getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;

function fakeModel(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-conn-'));
  mkdirSync(path.join(dir, '1'));
  writeFileSync(path.join(dir, '1', 'fake.json'), '{}');
  return dir;
}

async function start(server: Record<string, unknown>): Promise<TestServer> {
  return startTestServer(
    {
      server,
      devices: { cpu: { workers: 1, intra_op_threads: 1 } },
      models: [{ name: 'm', base_path: fakeModel(), platform: 'onnx' }],
    },
    FAKE_RUNTIME,
  );
}

const port = (address: string) => Number(address.split(':')[1]);

/** Resolves with what the server sent once it closes the socket; fails after `limitMs`. */
function closedBy(socket: net.Socket, limitMs = 15_000): Promise<string> {
  let received = '';
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not close the connection')), limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

function rawConnect(p: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p, '127.0.0.1', () => resolve(s));
    s.on('error', () => {});
    s.once('error', reject);
  });
}

const predictTensor = {
  dtype: 'DT_FLOAT',
  tensor_shape: { dim: [{ size: '1' }, { size: '2' }] },
  tensor_content: Buffer.from(new Float32Array([1, 2]).buffer),
};

describe('connection timeouts', () => {
  let ts: TestServer;
  before(async () => {
    ts = await start({
      connections: { header_timeout_ms: 500, body_timeout_ms: 1000 },
      grpc: { max_connection_idle_ms: 500 },
    });
  });
  after(() => ts.close());

  it('closes a REST connection whose body trickles past body_timeout_ms (408)', async () => {
    const s = await rawConnect(port(ts.restUrl.replace('http://', '')));
    const closed = closedBy(s);
    s.write('POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{');
    const trickle = setInterval(() => s.writable && s.write(' '), 100);
    try {
      assert.match(await closed, /^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a REST connection whose headers never finish (header_timeout_ms)', async () => {
    const s = await rawConnect(port(ts.restUrl.replace('http://', '')));
    const closed = closedBy(s);
    s.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n');
    await closed;
  });

  it('closes idle gRPC connections: raw TCP that sends nothing, and an HTTP/2 session without calls', async () => {
    const raw = await rawConnect(port(ts.grpcAddress));
    const session = http2.connect(`http://${ts.grpcAddress}`);
    session.on('error', () => {});
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await closedBy(raw);
    await Promise.race([
      sessionClosed,
      sleep(15_000).then(() => assert.fail('the idle HTTP/2 session was not closed')),
    ]);
  });
});

describe('the connection cap (server.connections.max_connections)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await start({ connections: { max_connections: 3 } });
  });
  after(() => ts.close());

  it('answers over-limit REST clients 503 and gRPC clients UNAVAILABLE, and serves again when connections leave', async () => {
    const restPort = port(ts.restUrl.replace('http://', ''));
    const held = await Promise.all([
      rawConnect(restPort),
      rawConnect(restPort),
      rawConnect(port(ts.grpcAddress)),
    ]);
    await sleep(100);
    const over = await getJson(`${ts.restUrl}/v2/health/live`, { connection: 'close' });
    assert.equal(over.status, 503);
    assert.match(String(over.body?.error), /max_connections/);
    const client = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
    try {
      await grpcError(
        grpcCall(client, 'Predict', { model_spec: { name: 'm' }, inputs: { x: predictTensor } }),
        grpc.status.UNAVAILABLE,
      );
    } finally {
      client.close();
    }
    for (const s of held) s.destroy();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await getJson(`${ts.restUrl}/v2/health/live`, { connection: 'close' })).status;
      if (status !== 200) await sleep(50);
    }
    assert.equal(status, 200);
  });
});

/**
 * For one describe block: a server started before its tests and closed after them, and the
 * process warnings (`name: message`) emitted meanwhile.
 */
function serverWatchingWarnings(): { server: () => TestServer; warnings: string[] } {
  let ts: TestServer | undefined;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  before(async () => {
    process.on('warning', onWarning);
    ts = await start({});
  });
  after(async () => {
    process.off('warning', onWarning);
    await ts?.close();
  });
  return {
    server: () => {
      assert.ok(ts, 'the server started');
      return ts;
    },
    warnings,
  };
}

describe('pipelined REST requests on one connection', () => {
  const { server, warnings } = serverWatchingWarnings();

  it('answers all of them, and their shared connection signal warns of no listener leak', async () => {
    const body = JSON.stringify({ instances: [[1, 2]] });
    const one =
      `POST /v1/models/m:predict HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const socket = await rawConnect(port(new URL(server().restUrl).host));
    let received = '';
    const count = () => (received.match(/HTTP\/1\.1 200/g) ?? []).length;
    const all = new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        if (count() === 20) resolve();
      });
    });
    socket.write(one.repeat(20));
    await all;
    socket.destroy();
    await sleep(50);
    assert.equal(count(), 20);
    assert.deepEqual(
      warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
      [],
    );
  });
});

describe('huge deadlines are clamped (server.connections.max_deadline_ms)', () => {
  const { server, warnings } = serverWatchingWarnings();
  const overflowed = () => warnings.filter((w) => w.startsWith('TimeoutOverflowWarning'));

  it('REST x-request-timeout-ms of 2^31 ms and more answers 200, without a TimeoutOverflowWarning', async () => {
    for (const timeout of ['2147483648', '99999999999999', '1e300']) {
      const r = await postJson(
        `${server().restUrl}/v1/models/m:predict`,
        { instances: [[1, 2]] },
        {
          'x-request-timeout-ms': timeout,
        },
      );
      assert.equal(r.status, 200, `${timeout}: ${r.text}`);
    }
    await sleep(50);
    assert.deepEqual(overflowed(), []);
  });

  it('a gRPC deadline 30 days away answers OK', async () => {
    const client = grpcClient('tensorflow.serving.PredictionService', server().grpcAddress);
    try {
      const res = await new Promise<unknown>((resolve, reject) =>
        client.Predict(
          { model_spec: { name: 'm' }, inputs: { x: predictTensor } },
          new grpc.Metadata(),
          { deadline: Date.now() + 30 * 24 * 3600 * 1000 },
          (err: grpc.ServiceError | null, r: unknown) => (err ? reject(err) : resolve(r)),
        ),
      );
      assert.ok(res);
    } finally {
      client.close();
    }
    assert.deepEqual(overflowed(), []);
  });
});

describe('gRPC max connection age (server.grpc.max_connection_age_ms)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await start({ grpc: { max_connection_age_ms: 500, max_connection_age_grace_ms: 2000 } });
  });
  after(() => ts.close());

  it('sends GOAWAY NO_ERROR to an aged connection, and calls across the age boundary all succeed', async () => {
    const session = http2.connect(`http://${ts.grpcAddress}`);
    session.on('error', () => {});
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const client = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
    const failures: string[] = [];
    let calls = 0;
    const until = Date.now() + 1500;
    try {
      while (Date.now() < until) {
        await grpcCall(client, 'Predict', { model_spec: { name: 'm' }, inputs: { x: predictTensor } }).then(
          () => calls++,
          (err: grpc.ServiceError) => failures.push(`${err.code} ${err.details}`),
        );
      }
    } finally {
      client.close();
    }
    assert.equal(
      await Promise.race([goaway, sleep(10_000).then(() => -1)]),
      http2.constants.NGHTTP2_NO_ERROR,
    );
    session.destroy();
    assert.deepEqual(failures, []);
    assert.ok(calls > 0);
  });
});
