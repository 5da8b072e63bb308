import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { grpcCall, grpcClient } from '../fixtures/grpc-client.js';
import { stablePort } from '../fixtures/stable-port.js';
import { startTestServer } from '../fixtures/test-server.js';

// server.grpc.listen_when_ready: the gRPC port opens the first time the server is ready, so a
// balancer without active health checks (open-source nginx) gets a refused connection, which
// it retries elsewhere, instead of a call it cannot replay.

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;

function fakeModel(spec: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-listen-'));
  mkdirSync(path.join(dir, '1'));
  writeFileSync(path.join(dir, '1', 'fake.json'), JSON.stringify(spec));
  return dir;
}

function start(spec: Record<string, unknown>, grpcPort = 0) {
  return startTestServer(
    {
      server: { grpc_port: grpcPort, grpc: { listen_when_ready: true } },
      devices: { cpu: { workers: 1, intra_op_threads: 1 } },
      models: [{ name: 'm', base_path: fakeModel(spec), platform: 'onnx', load_retries: 0 }],
    },
    FAKE_RUNTIME,
    undefined,
    { waitForModels: false },
  );
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('server.grpc.listen_when_ready', () => {
  it('binds the gRPC port once the model is AVAILABLE, and serves on it', async () => {
    const port = await stablePort();
    const ts = await start({ loadDelayMs: 300 }, port);
    try {
      await ts.server.modelsLoaded();
      await until('the gRPC port to open', () => ts.server.grpcPort === port);
      assert.equal(await connects(port), true);
      const client = grpcClient('grpc.health.v1.Health', `127.0.0.1:${port}`);
      try {
        const res = await grpcCall<{ status: string }>(client, 'Check', { service: '' });
        assert.equal(res.status, 'SERVING');
      } finally {
        client.close();
      }
    } finally {
      await ts.close();
    }
  });

  it('keeps the gRPC port closed while the server is not ready (a model that fails to load)', async () => {
    const port = await stablePort();
    const ts = await start({ loadError: 'broken on purpose' }, port);
    try {
      await ts.server.modelsLoaded();
      const ready = await fetch(`${ts.restUrl}/v2/health/ready`);
      await ready.arrayBuffer();
      assert.equal(ready.status, 503, 'not ready');
      assert.equal(ts.server.grpcPort, -1);
      assert.equal(await connects(port), false, 'a connection to the gRPC port is refused');
    } finally {
      await ts.close();
    }
  });
});
