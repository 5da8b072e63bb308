import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parseFlags, resolveCommandLine } from '../../src/main/config/flags.js';
import { ConfigReloader } from '../../src/main/lifecycle/config-reloader.js';
import { createLogger } from '../../src/main/logging/create-logger.js';
import { TensorServe } from '../../src/main/server.js';
import { bearer } from '../fixtures/grpc-client.js';
import { copyVersion, getJson, postJson } from '../fixtures/test-server.js';

const PREDICT = { instances: [1, 2] };
const THREE_ROWS = { instances: [1, 2, 3] };

/** Log lines the server wrote, parsed. */
class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line));
    done();
  }
}

/** Polls `check` until it is true; fails after `limitMs` (a bound on a wait, not a timing assertion). */
async function eventually(what: string, check: () => Promise<boolean> | boolean, limitMs = 20_000) {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

describe('YAML hot reload through the real server', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-reload-'));
  const yamlFile = path.join(dir, 'server.yaml');
  const keyFile = path.join(dir, 'keys', 'acme.key');
  const hpt = copyVersion('half_plus_two', 1);
  const second = copyVersion('half_plus_two', 1);
  const log = new LogLines();
  let server: TensorServe;
  let reloader: ConfigReloader;
  let url: string;

  /** The YAML with optional parts; ports 0, polling every 50 ms. */
  const writeYaml = (opts: { second?: boolean; maxBatch?: number; rate?: boolean; raw?: string } = {}) => {
    const text =
      opts.raw ??
      `server:
  host: 127.0.0.1
  rest_api_port: 0
  grpc_port: -1
  file_system_poll_wait_seconds: 0.1
  config_file_poll_wait_seconds: 0.05
devices:
  cpu: { workers: 1 }
admin_keys: [{ file: keys/admin.key }]
tenants:
  - id: acme
    api_keys: [{ file: keys/acme.key }]
    shared_models: ['*']
${opts.rate ? '    quotas: { requests_per_second: 0.001, burst: 1 }\n' : ''}models:
  - name: hpt
    base_path: ${hpt}
    batching: { max_batch_size: ${opts.maxBatch ?? 2}, batch_timeout_micros: 0 }
${opts.second ? `  - name: second\n    base_path: ${second}\n` : ''}`;
    writeFileSync(yamlFile, text);
  };

  before(async () => {
    mkdirSync(path.dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, 'old-key\n');
    writeFileSync(path.join(dir, 'keys', 'admin.key'), 'admin-key\n');
    writeYaml();
    const flags = parseFlags([`--config=${yamlFile}`]);
    const { config } = resolveCommandLine(flags);
    server = await TensorServe.start(config, { logger: createLogger('info', log) });
    reloader = new ConfigReloader({
      current: config,
      read: () => resolveCommandLine(flags).config,
      apply: (next, current) => server.reloadConfig(next, current),
      intervalMs: config.configFilePollIntervalMs,
      logger: server.logger,
      source: yamlFile,
    });
    reloader.start();
    url = `http://127.0.0.1:${server.restPort}`;
  });

  /** An explicit reload; the poll may have applied the edit first ('unchanged' then). */
  const reloadApplied = async () => {
    const outcome = await reloader.reload('request');
    assert.ok(outcome === 'applied' || outcome === 'unchanged', outcome);
  };

  after(async () => {
    await reloader.stop();
    await server.close();
  });

  it('serves a model added to the YAML once the file changes (poll)', async () => {
    assert.equal((await getJson(`${url}/v1/models/second`, bearer('old-key'))).status, 404);
    writeYaml({ second: true });
    await eventually(
      'second is served',
      async () =>
        (await postJson(`${url}/v1/models/second:predict`, PREDICT, bearer('old-key'))).status === 200,
    );
    assert.ok(log.lines.some((l) => l.msg === 'config reloaded'));
  });

  it('applies new batching to the loaded version', async () => {
    const before = await postJson(`${url}/v1/models/hpt:predict`, THREE_ROWS, bearer('old-key'));
    assert.equal(before.status, 400, before.text);
    assert.match(before.text, /max.*batch|batch size|larger/i);
    writeYaml({ second: true, maxBatch: 8 });
    await reloadApplied();
    const afterReload = await postJson(`${url}/v1/models/hpt:predict`, THREE_ROWS, bearer('old-key'));
    assert.equal(afterReload.status, 200, afterReload.text);
    assert.deepEqual(afterReload.body, { predictions: [2.5, 3, 3.5] });
  });

  it('keeps the running config when an edit is invalid, logging the paths', async () => {
    writeYaml({
      raw: 'server:\n  rest_api_port: 0\nmodels:\n  - name: hpt\n    batching: { max_batch_size: 0 }\n',
    });
    assert.equal(await reloader.reload('request'), 'rejected');
    const line = log.lines.findLast((l) => l.msg === 'config reload rejected; keeping the running config');
    assert.ok(line, 'the rejection is logged');
    const problems = line.problems as string[];
    assert.ok(problems.includes("models[0] must have required property 'base_path'"), problems.join('\n'));
    assert.ok(
      problems.some((p) => p.startsWith('models[0].batching.max_batch_size')),
      problems.join('\n'),
    );
    // Both models still serve, with the batching of the last valid config.
    for (const model of ['hpt', 'second']) {
      const r = await postJson(`${url}/v1/models/${model}:predict`, THREE_ROWS, bearer('old-key'));
      assert.equal(r.status, 200, `${model}: ${r.text}`);
    }
    // A YAML syntax error is rejected the same way.
    writeYaml({ raw: 'models: [\n' });
    assert.equal(await reloader.reload('request'), 'rejected');
    assert.equal((await postJson(`${url}/v1/models/hpt:predict`, PREDICT, bearer('old-key'))).status, 200);
  });

  it('rotates a tenant key without a restart', async () => {
    writeYaml({ second: true, maxBatch: 8 });
    assert.equal((await postJson(`${url}/v1/models/hpt:predict`, PREDICT, bearer('old-key'))).status, 200);
    writeFileSync(keyFile, 'new-key\n');
    // The poll re-reads the key file: the new key works, the old one stops working.
    await eventually(
      'the new key is accepted',
      async () => (await postJson(`${url}/v1/models/hpt:predict`, PREDICT, bearer('new-key'))).status === 200,
    );
    const old = await postJson(`${url}/v1/models/hpt:predict`, PREDICT, bearer('old-key'));
    assert.equal(old.status, 401);
    assert.deepEqual(old.body, { error: 'Invalid API key' });
  });

  it('applies a tenant quota edit', async () => {
    writeYaml({ second: true, maxBatch: 8, rate: true });
    await reloadApplied();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await postJson(`${url}/v1/models/hpt:predict`, PREDICT, bearer('new-key'))).status);
    }
    assert.deepEqual(statuses, [200, 429, 429]);
    writeYaml({ second: true, maxBatch: 8 });
    await reloadApplied();
    assert.equal((await postJson(`${url}/v1/models/hpt:predict`, PREDICT, bearer('new-key'))).status, 200);
  });

  it('unloads a model removed from the YAML and refuses to turn tenancy off', async () => {
    writeYaml({ maxBatch: 8 });
    await reloadApplied();
    await eventually(
      'second is gone',
      async () =>
        (await postJson(`${url}/v1/models/second:predict`, PREDICT, bearer('new-key'))).status === 404,
    );
    writeYaml({
      raw: `server: { host: 127.0.0.1, rest_api_port: 0, grpc_port: -1 }\nmodels:\n  - name: hpt\n    base_path: ${hpt}\n`,
    });
    assert.equal(await reloader.reload('request'), 'rejected');
    const line = log.lines.findLast((l) => l.msg === 'config reload rejected; keeping the running config');
    assert.ok(line);
    assert.match(String((line.problems as string[])[0]), /tenancy cannot be turned off by a reload/);
    assert.equal((await postJson(`${url}/v1/models/hpt:predict`, PREDICT)).status, 401, 'tenancy stays on');
  });
});
