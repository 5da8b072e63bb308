import assert from 'node:assert/strict';
import { cpSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  copyVersion,
  getJson,
  MODELS_DIR,
  postJson,
  startTestServer,
  type TestServer,
} from '../fixtures/test-server.js';

interface VersionStatusJson {
  version: string;
  state: string;
  status: { error_code: string; error_message: string };
}

/** Puts a version directory in place atomically, as a deploy script should (copy, then rename). */
function dropVersion(base: string, version: number, fill: (dir: string) => void): void {
  const staging = path.join(base, `.staging-${version}`);
  mkdirSync(staging);
  fill(staging);
  renameSync(staging, path.join(base, String(version)));
}

async function statuses(ts: TestServer, model: string): Promise<VersionStatusJson[]> {
  const r = await getJson(`${ts.restUrl}/v1/models/${model}`);
  return (r.body as { model_version_status: VersionStatusJson[] }).model_version_status;
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('model lifecycle on a live server', () => {
  let ts: TestServer;
  let base: string;
  before(async () => {
    base = copyVersion('half_plus_two', 1);
    ts = await startTestServer({
      server: { grpc_port: -1, file_system_poll_wait_seconds: 0.05 },
      models: [{ name: 'hpt', base_path: base, load_retries: 1, load_retry_interval_ms: 20 }],
    });
  });
  after(() => ts.close());

  it('a new version dropped in while requests run becomes AVAILABLE, the old one unloads, nothing fails', async () => {
    const seen = new Set<string>();
    const failures: string[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const r = await postJson(`${ts.restUrl}/v2/models/hpt/infer`, {
          inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2, 5] }],
        });
        if (r.status !== 200) failures.push(r.text);
        else {
          const body = r.body as { model_version: string; outputs: { data: number[] }[] };
          seen.add(body.model_version);
          assert.deepEqual(body.outputs[0].data, [2.5, 3, 4.5]);
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await sleep(200);
    dropVersion(base, 2, (dir) =>
      cpSync(path.join(MODELS_DIR, 'half_plus_two', '1'), dir, { recursive: true }),
    );
    await waitFor('version 2 AVAILABLE and version 1 END', async () => {
      const s = await statuses(ts, 'hpt');
      return (
        s.some((v) => v.version === '2' && v.state === 'AVAILABLE') &&
        s.some((v) => v.version === '1' && v.state === 'END')
      );
    });
    await sleep(200);
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    assert.ok(seen.has('1') && seen.has('2'), `versions served: ${[...seen]}`);
    const s = await statuses(ts, 'hpt');
    assert.deepEqual(
      s.map((v) => [v.version, v.state, v.status.error_code]),
      [
        ['2', 'AVAILABLE', 'OK'],
        ['1', 'END', 'OK'],
      ],
    );
  });

  it('a corrupt new version leaves the old one serving and reports its error in status', async () => {
    dropVersion(base, 3, (dir) => writeFileSync(path.join(dir, 'model.onnx'), 'this is not an onnx model'));
    await waitFor('version 3 to fail', async () =>
      (await statuses(ts, 'hpt')).some((v) => v.version === '3' && v.state === 'END'),
    );
    const s = await statuses(ts, 'hpt');
    const v3 = s.find((v) => v.version === '3')!;
    assert.notEqual(v3.status.error_code, 'OK');
    assert.ok(v3.status.error_message.length > 0);
    assert.ok(s.some((v) => v.version === '2' && v.state === 'AVAILABLE'));
    const r = await postJson(`${ts.restUrl}/v1/models/hpt:predict`, '{"instances":[1.0]}');
    assert.equal(r.text, '{"predictions":[2.5]}');
    const explicit = await postJson(`${ts.restUrl}/v1/models/hpt/versions/3:predict`, '{"instances":[1.0]}');
    assert.equal(explicit.status, 404);
  });
});
