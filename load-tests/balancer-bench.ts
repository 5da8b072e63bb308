/**
 * The load balancer's overhead (issue 10): the same tensorserve instance measured directly
 * and through HAProxy with the shipped config (deploy/haproxy/haproxy.cfg, addresses
 * templated onto free ports, its three server slots all on that one instance), in one run:
 * req/s at 64 connections and p50 latency at 1 connection, as ratios to direct.
 *
 *   npm run bench:balancer -- --duration 5 --rounds 2
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  Flags,
  machineInfo,
  machineLine,
  publishResults,
  ratio,
  tempDir,
  withCleanup,
} from './bench-common.js';
import type { LoadResult } from './latency.js';
import { checkRestRequest, runRestLoad } from './rest-load.js';
import type { RequestSpec } from './scenarios.js';
import { freePort, REPO_ROOT, type ServerProcess, startTensorServeWithArgs } from './server-process.js';
import { markdownTable, textTable } from './sweep-output.js';

const USAGE = `Usage: node dist/load-tests/balancer-bench.js [--duration 5] [--rounds 2] [--model half_plus_two]
Runs tensorserve alone and behind HAProxy (haproxy must be installed: apt-get install haproxy).`;

const HAPROXY_CFG = path.join(REPO_ROOT, 'deploy', 'haproxy', 'haproxy.cfg');

/** The shipped HAProxy config with its documented ports mapped onto `ports`. */
function templated(ports: Map<number, number>): string {
  return readFileSync(HAPROXY_CFG, 'utf8').replace(/\b(85\d\d|8404)\b/g, (m) =>
    String(ports.get(Number(m)) ?? m),
  );
}

async function startHaproxy(
  dir: string,
  server: ServerProcess,
): Promise<{ url: string; stop(): Promise<void> }> {
  const [rest, grpc, stats] = [await freePort(), await freePort(), await freePort()];
  const restPort = Number(new URL(server.restUrl).port);
  const grpcPort = Number(server.grpcAddress?.split(':')[1]);
  const ports = new Map([
    [8501, rest],
    [8500, grpc],
    [8404, stats],
  ]);
  for (const slot of [8511, 8521, 8531]) {
    ports.set(slot, restPort);
    ports.set(slot - 1, grpcPort);
  }
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, templated(ports));
  execFileSync('haproxy', ['-c', '-q', '-f', file]);
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', file], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${rest}`;
  const deadline = Date.now() + 10_000;
  // Up once a request goes through (the first health checks have passed).
  for (;;) {
    const ok = await fetch(`${url}/v2/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('HAProxy did not pass requests within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exit = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exit;
    },
  };
}

interface Row {
  readonly path: 'direct' | 'haproxy';
  readonly concurrency: number;
  readonly runs: LoadResult[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const durationS = flags.num('duration', 5);
  const rounds = flags.num('rounds', 2);
  const model = flags.str('model', 'half_plus_two');
  const machine = machineInfo();
  const tmp = tempDir('ts-balancer-bench-');
  let server: ServerProcess | undefined;
  let haproxy: { url: string; stop(): Promise<void> } | undefined;
  const rows: Row[] = [];
  await withCleanup(
    async () => {
      server = await startTensorServeWithArgs(
        [
          '--model_name',
          model,
          '--model_base_path',
          path.join(REPO_ROOT, 'models', model),
          '--log_level',
          'warn',
        ],
        { name: 'tensorserve' },
      );
      haproxy = await startHaproxy(tmp.dir, server);
      const request: RequestSpec = {
        method: 'POST',
        path: `/v1/models/${model}:predict`,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ instances: [1, 2, 5] })),
      };
      const targets = { direct: server.restUrl, haproxy: haproxy.url } as const;
      for (const url of Object.values(targets)) await checkRestRequest(url, request);
      // Warm-up (not recorded): JIT, connection pools and HAProxy's slow start.
      for (const url of Object.values(targets))
        await runRestLoad({ baseUrl: url, request, concurrency: 64, durationS: 1 });
      for (const concurrency of [64, 1]) {
        for (const p of ['direct', 'haproxy'] as const) rows.push({ path: p, concurrency, runs: [] });
      }
      // Alternate direct and HAProxy within each round so drift on a shared box hits both.
      for (let round = 0; round < rounds; round++) {
        for (const row of rows) {
          process.stderr.write(
            `round ${round + 1}/${rounds}: ${row.path} at ${row.concurrency} connections\n`,
          );
          row.runs.push(
            await runRestLoad({
              baseUrl: targets[row.path],
              request,
              concurrency: row.concurrency,
              durationS,
            }),
          );
        }
      }
    },
    async () => {
      await haproxy?.stop();
      await server?.stop();
      tmp.dispose();
    },
  );
  const get = (p: Row['path'], c: number) => rows.find((r) => r.path === p && r.concurrency === c)!;
  const rps = (r: Row) => median(r.runs.map((x) => x.throughput));
  const p50 = (r: Row) => median(r.runs.map((x) => x.latencyMs.p50));
  const errors = (r: Row) => r.runs.reduce((n, x) => n + x.errors, 0);
  const header = ['path', 'connections', 'req/s (median)', 'p50 ms (median)', 'p99 ms (median)', 'errors'];
  const body = rows.map((r) => [
    r.path,
    String(r.concurrency),
    rps(r).toFixed(0),
    p50(r).toFixed(2),
    median(r.runs.map((x) => x.latencyMs.p99)).toFixed(2),
    String(errors(r)),
  ]);
  const throughputRatio = ratio(rps(get('haproxy', 64)), rps(get('direct', 64)));
  const latencyRatio = ratio(p50(get('haproxy', 1)), p50(get('direct', 1)));
  const summary = [
    `HAProxy / direct, req/s at 64 connections: ${throughputRatio}`,
    `HAProxy / direct, p50 at 1 connection: ${latencyRatio}`,
  ];
  const title = `Balancer overhead: ${model} REST JSON predict, ${rounds} rounds of ${durationS} s each`;
  const text = [title, machineLine(machine), '', textTable(header, body), '', ...summary].join('\n');
  const markdown = [
    `## ${title}`,
    '',
    machineLine(machine),
    '',
    markdownTable(header, body),
    '',
    ...summary.map((s) => `- ${s}`),
    '',
  ].join('\n');
  publishResults(
    'balancer-bench',
    { machine, model, durationS, rounds, rows, throughputRatio, latencyRatio },
    text,
    markdown,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
