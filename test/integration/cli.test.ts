import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyVersion, getJson, postJson, REPO_ROOT } from '../fixtures/test-server.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'main', 'cli.js');
const PREDICT = { instances: [1, 2] };

function runCli(args: readonly string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
}

/** A CLI child process whose JSON log lines are collected as they come. */
class CliProcess {
  readonly lines: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  private readonly waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.trim().startsWith('{')) this.lines.push(JSON.parse(p));
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr?.resume();
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves with the first log line (from index `from`) matching; fails after `limitMs`. */
  async waitFor(match: (l: Record<string, unknown>) => boolean, from = 0, limitMs = 30_000) {
    const end = Date.now() + limitMs;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found) return found;
      if (Date.now() > end || this.child.exitCode !== null) assert.fail('log line not seen');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
}

describe('the tensorserve command line', () => {
  it('exits 2 on an unknown flag, naming it and the closest known flag', () => {
    const r = runCli(['--rest_port=8501']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown flag --rest_port; the closest known flag is --rest_api_port/);
  });

  it('prints the version and the help, exiting 0', () => {
    const v = runCli(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^TensorServe ModelServer: \d+\.\d+\.\d+/);
    const h = runCli(['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /a flag given wins over the YAML/);
    assert.match(h.stdout, /--per_process_gpu_memory_fraction/);
  });
});

describe('SIGHUP reloads the YAML of the real CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-sighup-'));
  const yamlFile = path.join(dir, 'server.yaml');
  const hpt = copyVersion('half_plus_two', 1);
  const writeYaml = (models: string[], maxBatch: number) =>
    writeFileSync(
      yamlFile,
      `server:
  host: 127.0.0.1
  rest_api_port: 0
  grpc_port: -1
  config_file_poll_wait_seconds: 0 # only SIGHUP reloads
devices:
  cpu: { workers: 1 }
model_defaults:
  batching: { max_batch_size: ${maxBatch} }
models:
${models.map((m) => `  - name: ${m}\n    base_path: ${hpt}\n`).join('')}`,
    );
  let cli: CliProcess;
  let url: string;

  before(async () => {
    writeYaml(['a'], 2);
    // --enable_batching=false wins over the YAML's batching, on start and on every reload.
    cli = new CliProcess([`--config=${yamlFile}`, '--grpc_max_threads=4', '--enable_batching=false']);
    const ready = await cli.waitFor((l) => l.msg === 'tensorserve ready');
    url = `http://127.0.0.1:${ready.rest_port}`;
  });

  after(async () => {
    if (cli.child.exitCode === null) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('logs one warning line for a flag without effect', () => {
    const warnings = cli.lines.filter((l) => String(l.msg).includes('--grpc_max_threads'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].level, 40);
    assert.match(String(warnings[0].msg), /has no effect/);
  });

  it('serves a model added to the YAML after SIGHUP, with the flag still winning', async () => {
    assert.equal((await postJson(`${url}/v1/models/b:predict`, PREDICT)).status, 404);
    writeYaml(['a', 'b'], 8);
    const from = cli.lines.length;
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => l.msg === 'config reloaded', from);
    const b = await postJson(`${url}/v1/models/b:predict`, PREDICT);
    assert.equal(b.status, 200, b.text);
    assert.deepEqual(b.body, { predictions: [2.5, 3] });
    // The YAML's model_defaults say max_batch_size 8, --enable_batching=false says no limit: 9 rows pass.
    const nine = await postJson(`${url}/v1/models/b:predict`, { instances: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    assert.equal(nine.status, 200, nine.text);
    assert.equal((await getJson(`${url}/v1/models/a`)).status, 200);
    assert.equal(cli.child.exitCode, null, 'SIGHUP does not end the process');
  });

  it('keeps serving when a SIGHUP finds an invalid YAML', async () => {
    writeFileSync(yamlFile, 'models:\n  - name: a\n');
    const from = cli.lines.length;
    cli.child.kill('SIGHUP');
    const line = await cli.waitFor(
      (l) => l.msg === 'config reload rejected; keeping the running config',
      from,
    );
    assert.deepEqual(line.problems, ["models[0] must have required property 'base_path'"]);
    assert.equal((await postJson(`${url}/v1/models/b:predict`, PREDICT)).status, 200);
  });
});
