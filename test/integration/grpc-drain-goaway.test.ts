import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FLAG, FRAME, type Frame, frame, goawayOf, grpcUnary, RawH2 } from '../fixtures/raw-h2.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

// The drain's round trip before the final GOAWAY (ShutdownNotice), seen on the wire by a
// client that answers nothing by itself: it plays a proxy (nginx) whose request crosses it.

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';

function fakeModel(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-goaway-'));
  mkdirSync(path.join(dir, '1'));
  writeFileSync(path.join(dir, '1', 'fake.json'), '{}');
  return dir;
}

function start(drainNoticeMs: number): Promise<TestServer> {
  return startTestServer(
    {
      server: { grpc: { drain_notice_ms: drainNoticeMs } },
      devices: { cpu: { workers: 1, intra_op_threads: 1 } },
      models: [{ name: 'm', base_path: fakeModel(), platform: 'onnx' }],
    },
    FAKE_RUNTIME,
  );
}

const grpcPort = (ts: TestServer) => Number(ts.grpcAddress.split(':')[1]);
const isGoaway = (f: Frame) => f.type === FRAME.GOAWAY;
const endOf = (streamId: number) => (f: Frame) =>
  f.streamId === streamId && (f.type === FRAME.RST_STREAM || (f.flags & FLAG.END_STREAM) !== 0);

/** Waits for the end of `streamId` and checks it is a gRPC answer (trailers, a message), not a reset. */
async function answered(h2: RawH2, streamId: number): Promise<void> {
  const end = await h2.waitFor(endOf(streamId), `the end of stream ${streamId}`);
  assert.equal(end.type, FRAME.HEADERS, `stream ${streamId} ends with trailers, not RST_STREAM`);
  const data = h2.frames.filter((f) => f.type === FRAME.DATA && f.streamId === streamId);
  const body = Buffer.concat(data.map((f) => f.payload));
  // A length-prefixed HealthCheckResponse: field 1 (status), a varint.
  assert.ok(body.length >= 6 && body[5] === 0x08, `stream ${streamId} carries a HealthCheckResponse`);
}

/**
 * Runs `body` on a raw HTTP/2 session to a server started with `drainNoticeMs`; `drain()`
 * begins the server's close (once). The session and the server are closed whatever happens.
 */
async function onSession(
  drainNoticeMs: number,
  body: (h2: RawH2, drain: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const ts = await start(drainNoticeMs);
  const h2 = await RawH2.connect(grpcPort(ts));
  let closing: Promise<void> | undefined;
  try {
    await body(h2, () => {
      closing ??= ts.close();
      return closing;
    });
  } finally {
    h2.destroy();
    await (closing ?? ts.close());
  }
}

describe('gRPC drain: a PING round trip before the final GOAWAY', () => {
  const isPing = (f: Frame) => f.type === FRAME.PING && (f.flags & FLAG.ACK) === 0;

  it('a session with a stream open: a PING, no GOAWAY before its answer, a stream sent before the answer is served, then the final GOAWAY', async () => {
    // A notice bound far above the test: the final GOAWAY can only follow the PING answer.
    await onSession(600_000, async (h2, drain) => {
      // Stream 1 stays open: its headers are sent, its body later.
      const call1 = grpcUnary(1, HEALTH_CHECK, new Uint8Array());
      const headersEnd = 9 + call1.readUIntBE(0, 3);
      h2.send(call1.subarray(0, headersEnd));
      // The server answers a PING after reading what came before it: stream 1 is open.
      h2.send(frame(FRAME.PING, 0, 0, Buffer.alloc(8)));
      await h2.waitFor((f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0, 'the PING answer');
      const closing = drain();
      const ping = await h2.waitFor(isPing, 'the drain PING');

      // A call the client sent before it read the PING (a proxy's), then the PING answer behind it.
      h2.send(grpcUnary(3, HEALTH_CHECK, new Uint8Array()));
      assert.equal(h2.frames.filter(isGoaway).length, 0, 'no GOAWAY before the PING is answered');
      h2.send(frame(FRAME.PING, FLAG.ACK, 0, ping.payload));

      const final = goawayOf(await h2.waitFor(isGoaway, 'the final GOAWAY'));
      assert.deepEqual(final, { lastStreamId: 3, errorCode: 0 }, 'covers stream 3');
      await answered(h2, 3);
      h2.send(call1.subarray(headersEnd));
      await answered(h2, 1);
      await h2.closed;
      await closing;
    });
  });

  it('an idle session: PINGs, a stream that crossed the first is served, then the final GOAWAY', async () => {
    await onSession(600_000, async (h2, drain) => {
      h2.send(grpcUnary(1, HEALTH_CHECK, new Uint8Array()));
      await answered(h2, 1);
      const closing = drain();
      const ping = await h2.waitFor(isPing, 'the PING');
      assert.equal(h2.frames.filter(isGoaway).length, 0, 'no GOAWAY before the PING is answered');
      // A proxy's request sent as the PING arrived (nginx took the idle connection), then the answer.
      h2.send(grpcUnary(3, HEALTH_CHECK, new Uint8Array()));
      h2.send(frame(FRAME.PING, FLAG.ACK, 0, ping.payload));
      h2.answerPings = true;
      const final = goawayOf(await h2.waitFor(isGoaway, 'the final GOAWAY'));
      assert.deepEqual(final, { lastStreamId: 3, errorCode: 0 }, 'covers stream 3');
      await answered(h2, 3);
      await h2.closed;
      await closing;
    });
  });

  it('sends the final GOAWAY after drain_notice_ms when the PING is never answered', async () => {
    await onSession(200, async (h2, drain) => {
      h2.send(grpcUnary(1, HEALTH_CHECK, new Uint8Array()));
      await answered(h2, 1);
      const closing = drain();
      await h2.waitFor(isPing, 'the PING');
      const final = await h2.waitFor(isGoaway, 'the final GOAWAY');
      assert.deepEqual(goawayOf(final), { lastStreamId: 1, errorCode: 0 });
      await h2.closed;
      await closing;
    });
  });

  it('drain_notice_ms 0: no PING, the GOAWAY has the last stream id received', async () => {
    await onSession(0, async (h2, drain) => {
      h2.send(grpcUnary(1, HEALTH_CHECK, new Uint8Array()));
      await answered(h2, 1);
      const closing = drain();
      await h2.closed;
      await closing;
      // Node repeats its GOAWAY when it destroys the session; every one has the last id received.
      const goaways = h2.frames.filter(isGoaway).map(goawayOf);
      assert.ok(goaways.length > 0, 'a GOAWAY');
      for (const g of goaways) assert.deepEqual(g, { lastStreamId: 1, errorCode: 0 });
      assert.ok(!h2.frames.some((f) => f.type === FRAME.PING), 'no PING');
    });
  });
});
