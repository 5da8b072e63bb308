import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePrometheus, serverStats } from '../../load-tests/prometheus.js';
import { parseRunnerArgs, runSweep } from '../../load-tests/runner.js';
import { type SweepRecord, sweepTextTable, writeSweep } from '../../load-tests/sweep-output.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

describe('load-test runner: smoke run against a real server', () => {
  let ts: TestServer;
  let out: string;

  before(async () => {
    ts = await startTestServer({ models: [{ name: 'half_plus_two', base_path: 'models/half_plus_two' }] });
    out = mkdtempSync(path.join(tmpdir(), 'ts-runner-'));
  });

  after(async () => {
    await ts.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('sweeps two concurrency levels and writes the table, JSON, markdown and SVG', async () => {
    const progress: string[] = [];
    const record = await runSweep({
      model: 'half_plus_two',
      protocol: 'rest-json',
      concurrency: [1, 2],
      durationS: 1,
      warmupS: 0,
      target: { restUrl: ts.restUrl, grpcAddress: ts.grpcAddress },
      progress: (line) => progress.push(line),
    });
    assert.deepEqual(
      record.points.map((p) => p.concurrency),
      [1, 2],
    );
    for (const p of record.points) {
      assert.ok(p.throughput > 0, `throughput at ${p.concurrency}`);
      assert.equal(p.errors, 0, p.firstError);
      assert.ok(
        p.server.queueMs !== undefined && p.server.queueMs >= 0,
        'server queue time from the metrics',
      );
      assert.ok(
        p.server.computeMs !== undefined && p.server.computeMs > 0,
        'server compute time from the metrics',
      );
      assert.ok(p.server.meanBatchSize !== undefined && p.server.meanBatchSize >= 1);
    }
    assert.ok(progress.some((l) => l.startsWith('concurrency 1:')));
    assert.ok(progress.some((l) => l.startsWith('concurrency 2:')));

    const table = sweepTextTable(record.points).split('\n');
    assert.equal(table.length, 3);
    for (const column of [
      'concurrency',
      'infer/s',
      'p50 ms',
      'p99 ms',
      'server queue ms',
      'server compute ms',
    ])
      assert.ok(table[0].includes(column), column);
    assert.match(table[1], /^\s*1\s/);
    assert.match(table[2], /^\s*2\s/);
    assert.doesNotMatch(table.join('\n'), /n\/a/);

    const files = writeSweep(out, 'smoke', record);
    const saved = JSON.parse(readFileSync(files.json, 'utf8')) as SweepRecord;
    assert.equal(saved.model, 'half_plus_two');
    assert.equal(saved.points.length, 2);
    const md = readFileSync(files.md, 'utf8');
    assert.match(md, /^# half_plus_two over rest-json/);
    assert.match(md, /\| concurrency \| infer\/s \|/);
    assert.equal(md.split('\n').filter((l) => /^\| [12] \|/.test(l)).length, 2);
    const svg = readFileSync(files.svg, 'utf8');
    assert.match(svg, /^<svg /);
    assert.ok(svg.includes('c=1') && svg.includes('c=2'));
    assert.ok(existsSync(path.join(out, 'smoke.svg')));
  });
});

describe('load-test runner: arguments', () => {
  it('takes a model directory and names the model after it', () => {
    const args = parseRunnerArgs(['--model-path', 'models/half_plus_two', '--duration', '1']);
    assert.equal(args.model, 'half_plus_two');
    assert.equal(args.modelPath, path.resolve('models/half_plus_two'));
    assert.equal(parseRunnerArgs(['--model-path', 'x/y', '--model-name', 'mine']).model, 'mine');
  });

  it('loads local servers only, one target at a time', () => {
    assert.throws(
      () => parseRunnerArgs(['--url', 'http://127.0.0.1:1', '--grpc', '10.0.0.1:8500', '--model', 'm']),
      /--grpc must be a local server/,
    );
    assert.throws(() => parseRunnerArgs(['--url', 'http://example.com:80', '--model', 'm']), /--url must be/);
    assert.throws(
      () => parseRunnerArgs(['--url', 'http://127.0.0.1:1', '--model-path', 'x', '--model', 'm']),
      /exactly one of/,
    );
    const ok = parseRunnerArgs(['--url', 'http://127.0.0.1:1', '--grpc', '127.0.0.1:2', '--model', 'm']);
    assert.equal(ok.grpc, '127.0.0.1:2');
  });
});

describe('load-test runner: server figures from two scrapes', () => {
  it('counts compute input, infer and output as server compute, per successful request', () => {
    const text = (n: number) =>
      [
        `nv_inference_request_success{model="m",version="1"} ${2 * n}`,
        `nv_inference_count{model="m",version="1"} ${4 * n}`,
        `nv_inference_exec_count{model="m",version="1"} ${n}`,
        `nv_inference_queue_duration_us{model="m",version="1"} ${1000 * n}`,
        `nv_inference_compute_input_duration_us{model="m",version="1"} ${100 * n}`,
        `nv_inference_compute_infer_duration_us{model="m",version="1"} ${2000 * n}`,
        `nv_inference_compute_output_duration_us{model="m",version="1"} ${300 * n}`,
        `nv_inference_compute_infer_duration_us{model="other",version="1"} 999999`,
      ].join('\n');
    const stats = serverStats(parsePrometheus(text(1), 'm'), parsePrometheus(text(3), 'm'));
    assert.equal(stats.meanBatchSize, 4);
    assert.equal(stats.queueMs, 0.5);
    assert.equal(stats.computeMs, 1.2);
  });
});
