import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CliServer, startCli } from '../fixtures/cli-process.js';
import { MODELS_DIR } from '../fixtures/repo-root.js';

const MODEL = { name: 'hpt', base_path: `${MODELS_DIR}/half_plus_two` };

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await fetch(`${url}/v2/health/ready`).catch(() => undefined);
    if (r?.status === 200) return;
    await sleep(50);
  }
  assert.fail('the server never became ready');
}

/** The socket-level code of a failed fetch (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...). */
function causeCode(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? String(err);
}

function phases(cli: CliServer): string[] {
  return cli
    .lines()
    .map((l) => l.phase)
    .filter((p): p is string => typeof p === 'string');
}

describe('graceful shutdown of the real CLI', () => {
  it('SIGTERM under load: ready false during the delay while predicts answer 200; no accepted request lost; exit 0 in bound', async () => {
    const drainTimeoutMs = 10_000;
    const cli = await startCli({
      server: { shutdown_delay_ms: 1500, drain_timeout_ms: drainTimeoutMs, log_level: 'info' },
      models: [MODEL],
    });
    await waitReady(cli.restUrl);
    let signalled = false;
    let notReadySeen = false;
    const okAfterNotReady: number[] = [];
    const statuses = new Map<number, number>();
    const failures = new Map<string, number>();
    const client = async () => {
      for (;;) {
        try {
          const r = await fetch(`${cli.restUrl}/v1/models/hpt:predict`, {
            method: 'POST',
            body: JSON.stringify({ instances: [1, 2, 3] }),
          });
          await r.text();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (notReadySeen && r.status === 200) okAfterNotReady.push(1);
        } catch (err) {
          const code = causeCode(err);
          failures.set(code, (failures.get(code) ?? 0) + 1);
          // Refused: the server no longer accepts, so this request was never accepted.
          if (signalled && code === 'ECONNREFUSED') return;
          if (!signalled) throw err;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await sleep(300);
    const t0 = Date.now();
    signalled = true;
    cli.child.kill('SIGTERM');
    // During the delay: the readiness probe says 503 while predictions still succeed.
    for (let i = 0; i < 10 && !notReadySeen; i++) {
      const r = await fetch(`${cli.restUrl}/v2/health/ready`, { headers: { connection: 'close' } });
      await r.text();
      if (r.status === 503) notReadySeen = true;
      else await sleep(50);
    }
    assert.ok(notReadySeen, 'readiness did not turn false after SIGTERM');
    await Promise.all(clients);
    const { code } = await cli.exited;
    const elapsed = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(elapsed <= drainTimeoutMs + 1000, `exited after ${elapsed} ms`);
    assert.deepEqual([...statuses.keys()], [200], `statuses: ${JSON.stringify([...statuses])}`);
    assert.deepEqual([...failures.keys()], ['ECONNREFUSED'], `failures: ${JSON.stringify([...failures])}`);
    assert.ok(okAfterNotReady.length > 0, 'no prediction answered while not ready');
    assert.deepEqual(phases(cli), ['not_ready', 'stop_accepting', 'drained', 'unloaded']);
  });

  it('SIGTERM with stalled connections exits 0 within drain_timeout_ms + 1 s', async () => {
    const drainTimeoutMs = 2000;
    const cli = await startCli({
      server: { shutdown_delay_ms: 0, drain_timeout_ms: drainTimeoutMs, log_level: 'info' },
      models: [MODEL],
    });
    await waitReady(cli.restUrl);
    const sockets: net.Socket[] = [];
    const connect = (port: number, bytes?: string) =>
      new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => {
          if (bytes !== undefined) s.write(bytes);
          resolve();
        });
        s.on('error', () => {});
        s.once('error', reject);
        sockets.push(s);
      });
    // A raw TCP connection to the gRPC port that sends nothing.
    await connect(cli.grpcPort);
    // REST headers never finished; a body shorter than its Content-Length.
    await connect(cli.restPort, 'POST /v1/models/hpt:predict HTTP/1.1\r\nHost: x\r\n');
    await connect(
      cli.restPort,
      'POST /v1/models/hpt:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"instances"',
    );
    // An HTTP/2 stream with HEADERS and no END_STREAM, on a session that ignores GOAWAY.
    const session = http2.connect(`http://127.0.0.1:${cli.grpcPort}`);
    session.on('error', () => {});
    session.on('goaway', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': '/tensorflow.serving.PredictionService/Predict',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => {});
    await new Promise((resolve) => session.once('connect', resolve));
    await sleep(200);
    const t0 = Date.now();
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    const elapsed = Date.now() - t0;
    for (const s of sockets) s.destroy();
    session.destroy();
    assert.equal(code, 0);
    assert.ok(elapsed <= drainTimeoutMs + 1000, `exited after ${elapsed} ms`);
    const deadline = cli.lines().find((l) => l.phase === 'deadline');
    assert.ok(deadline, `no deadline phase in ${JSON.stringify(phases(cli))}`);
    assert.ok(Number(deadline.destroyed_connections) >= 4, JSON.stringify(deadline));
  });

  it('a second signal exits at once', async () => {
    const cli = await startCli({
      server: { shutdown_delay_ms: 20_000, drain_timeout_ms: 30_000, log_level: 'info' },
      models: [MODEL],
    });
    await waitReady(cli.restUrl);
    cli.child.kill('SIGTERM');
    for (let i = 0; i < 100 && !phases(cli).includes('not_ready'); i++) await sleep(20);
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 143);
  });
});
