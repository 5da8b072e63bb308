/**
 * Issue 11's latency and protocol benchmark, in one run: the example CNN served by
 * tensorserve (batching 32 / 1000 µs) over REST JSON, v2 binary, gRPC Predict
 * (tensor_content) and gRPC ModelInfer (raw contents) at --connections (64) and at one
 * connection, beside the front ends' ceilings (echo-server.ts: fastify and grpc-js answering
 * without inference) and the in-process batch-1 time. With --baseline <repo root> (a checkout
 * of an older commit, built) every tensorserve row runs on both builds, alternating, so
 * before/after figures come from the same minutes of the same machine.
 *
 * Each row also reports the server's main-thread CPU time per request, in µs: the main
 * thread's utime + stime from /proc/<pid>/task/<pid>/stat over the measured interval,
 * divided by the requests answered. (That is event-loop busy time, i.e. event-loop
 * utilization × wall time, without the time the thread waited for a CPU on a shared box.)
 *
 * The one-connection rows run both builds and the echo at once with requests alternating
 * between them (`--single-requests` each), so a shared box's load falls on all alike; the
 * client is one raw keep-alive socket (one-connection.ts), or `fetch` with --single-client.
 * The naive server (fastify + onnxruntime inline) serves REST JSON at --connections for
 * issue 11's "REST JSON >= 2.0x naive" target.
 *
 *   npm run bench:latency -- [--baseline <dir>] [--duration 5] [--warmup 1] [--connections 64]
 *     [--workers 1] [--rounds 1] [--single-requests 400] [--single-client raw|fetch]
 *     [--protocols a,b] [--no-echo] [--no-naive] [--no-single] [--out load-tests/results]
 */
import { readFileSync } from 'node:fs';
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
import { startCnnBuild, startNaive } from './bench-servers.js';
import { measureEngineCeiling } from './engine-ceiling.js';
import type { LoadResult } from './latency.js';
import { LatencyRecorder } from './latency.js';
import { OneConnection } from './one-connection.js';
import { scrape, serverStats } from './prometheus.js';
import { type GrpcClient, protocolLoad } from './protocol-load.js';
import { cnnImage, type Protocol, restRequest } from './scenarios.js';
import {
  BUILD_ROOT,
  freePort,
  LOAD_TESTS_DIR,
  REPO_ROOT,
  type ServerProcess,
  spawnServer,
} from './server-process.js';
import { markdownTable, textTable } from './sweep-output.js';

const USAGE = `Usage: npm run bench:latency -- [--baseline <repo root>] [--duration 5] [--warmup 1]
  [--connections 64] [--workers 1] [--rounds 1] [--single-requests 400] [--single-client raw|fetch]
  [--protocols rest-json,v2-binary,grpc-predict,grpc-infer] [--no-echo] [--no-naive] [--no-single]
  [--out load-tests/results]`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const CLK_TCK = 100;

interface Row {
  readonly server: string;
  readonly protocol: Protocol;
  readonly connections: number;
  readonly result: LoadResult;
  readonly meanBatch: number | undefined;
  /** Main-thread CPU µs per answered request. */
  readonly mainUs: number | undefined;
}

/** utime + stime of the process's main thread, in seconds (Linux only). */
function mainThreadCpuS(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

async function measure(
  srv: ServerProcess,
  name: string,
  protocol: Protocol,
  connections: number,
  o: { durationS: number; warmupS: number; model: string; scrapes: boolean; grpcClient: GrpcClient },
): Promise<Row> {
  const load = protocolLoad(protocol, srv, o.model, [cnnImage(1)], { grpcClient: o.grpcClient });
  await load.check();
  if (o.warmupS > 0) await load.run(connections, o.warmupS);
  const before = o.scrapes ? await scrape(srv.restUrl, o.model) : undefined;
  const cpu0 = mainThreadCpuS(srv.pid);
  const result = await load.run(connections, o.durationS);
  const cpu1 = mainThreadCpuS(srv.pid);
  const after = o.scrapes ? await scrape(srv.restUrl, o.model) : undefined;
  const stats = serverStats(before, after);
  const mainUs =
    cpu0 === undefined || cpu1 === undefined || result.ok === 0
      ? undefined
      : ((cpu1 - cpu0) * 1e6) / result.ok;
  log(
    `  ${name} ${protocol} x${connections}: ${result.throughput.toFixed(0)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, ` +
      `p99 ${result.latencyMs.p99.toFixed(2)} ms, main ${mainUs?.toFixed(0) ?? '?'} µs/req` +
      (result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ''),
  );
  return { server: name, protocol, connections, result, meanBatch: stats.meanBatchSize, mainUs };
}

/**
 * One connection per server, every server (both builds and the echo) at once, requests
 * alternating between them (the order rotated every round), so load from elsewhere on a
 * shared box falls on all alike. `client`: `raw` (one keep-alive socket, pre-serialized
 * request, one-connection.ts: the load generator's floor is a write and a read) or `fetch`
 * (undici, as earlier runs of this bench measured).
 */
async function interleaved(
  servers: readonly [string, ServerProcess][],
  protocol: Protocol,
  requests: number,
  client: 'raw' | 'fetch',
): Promise<Row[]> {
  const spec = restRequest(protocol, 'cnn', [cnnImage(1)]);
  const lat = servers.map(() => [] as number[]);
  const conns = servers.map(([, s]) => new OneConnection(s.restUrl));
  const bytes = servers.map(([, s]) => OneConnection.serialize(spec, new URL(s.restUrl).host));
  const send = async (j: number): Promise<number> => {
    if (client === 'raw') return conns[j].send(bytes[j]);
    const res = await fetch(servers[j][1].restUrl + spec.path, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
    });
    await res.arrayBuffer();
    return res.status;
  };
  const cpu0 = servers.map(([, s]) => mainThreadCpuS(s.pid));
  const started = performance.now();
  try {
    for (let i = 0; i < requests + 20; i++) {
      for (let k = 0; k < servers.length; k++) {
        const j = (i + k) % servers.length;
        const t0 = performance.now();
        const status = await send(j);
        if (status !== 200) throw new Error(`${servers[j][0]} ${protocol} answered ${status}`);
        if (i >= 20) lat[j].push((performance.now() - t0) * 1000);
      }
    }
  } finally {
    for (const c of conns) c.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return servers.map(([name, s], j) => {
    const recorder = new LatencyRecorder();
    for (const us of lat[j]) recorder.recordOk(us);
    const cpu1 = mainThreadCpuS(s.pid);
    const c0 = cpu0[j];
    const result = recorder.result(1, seconds / servers.length);
    log(
      `  ${name} ${protocol} x1 (${client}, interleaved): p50 ${result.latencyMs.p50.toFixed(3)} ms, p99 ${result.latencyMs.p99.toFixed(3)} ms`,
    );
    return {
      server: name,
      protocol,
      connections: 1,
      result,
      meanBatch: name === 'echo' ? undefined : 1,
      mainUs: c0 === undefined || cpu1 === undefined ? undefined : ((cpu1 - c0) * 1e6) / (requests + 20),
    };
  });
}

async function startEcho(): Promise<ServerProcess> {
  const restPort = await freePort();
  const grpcPort = await freePort();
  return spawnServer({
    name: 'echo',
    script: path.join(LOAD_TESTS_DIR, 'echo-server.js'),
    args: ['--port', String(restPort), '--grpc-port', String(grpcPort)],
    restPort,
    grpcPort,
    readyPath: '/readyz',
  });
}

async function withServer<T>(
  start: Promise<ServerProcess>,
  body: (s: ServerProcess) => Promise<T>,
): Promise<T> {
  const s = await start;
  try {
    return await body(s);
  } finally {
    await s.stop();
  }
}

const ALL_PROTOCOLS: Protocol[] = ['rest-json', 'v2-binary', 'grpc-predict', 'grpc-infer'];

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const o = {
    durationS: flags.num('duration', 5),
    warmupS: flags.num('warmup', 1),
    connections: flags.num('connections', 64),
    workers: flags.num('workers', 1),
    rounds: flags.num('rounds', 1),
    single: flags.num('single-requests', 400),
    grpcClient: flags.str('grpc-client', 'h2') as GrpcClient,
  };
  if (o.grpcClient !== 'h2' && o.grpcClient !== 'grpc-js')
    throw new Error('--grpc-client must be h2 or grpc-js');
  const PROTOCOLS = flags
    .str('protocols', ALL_PROTOCOLS.join(','))
    .split(',')
    .map((p) => p.trim()) as Protocol[];
  for (const p of PROTOCOLS)
    if (!ALL_PROTOCOLS.includes(p)) throw new Error(`--protocols: unknown protocol '${p}'`);
  const skipEcho = !flags.bool('echo', true);
  const withSingle = flags.bool('single', true);
  const withNaive = flags.bool('naive', true);
  const singleClient = flags.str('single-client', 'raw');
  if (singleClient !== 'raw' && singleClient !== 'fetch')
    throw new Error('--single-client must be raw or fetch');
  const baseline = flags.str('baseline', '');
  const machine = machineInfo();
  const tmp = tempDir('tensorserve-latency-');
  const builds: [string, string][] = baseline
    ? [
        ['baseline', path.join(path.resolve(baseline), 'dist')],
        ['tensorserve', BUILD_ROOT],
      ]
    : [['tensorserve', BUILD_ROOT]];
  const rows: Row[] = [];
  let batch1Us = Number.NaN;
  await withCleanup(
    async () => {
      if (!skipEcho) {
        log('echo servers (front-end ceilings):');
        await withServer(startEcho(), async (srv) => {
          for (const p of PROTOCOLS)
            rows.push(await measure(srv, 'echo', p, o.connections, { ...o, model: 'cnn', scrapes: false }));
        });
      }
      if (withNaive && PROTOCOLS.includes('rest-json')) {
        log('naive server (fastify + onnxruntime inline, REST JSON):');
        const modelFile = path.join(REPO_ROOT, 'models', 'cnn', '1', 'model.onnx');
        await withServer(startNaive(modelFile, { intraOpThreads: 1, workers: o.workers }), async (srv) =>
          rows.push(
            await measure(srv, 'naive', 'rest-json', o.connections, { ...o, model: 'cnn', scrapes: false }),
          ),
        );
      }
      for (let round = 0; round < o.rounds; round++) {
        for (const [name, root] of builds) {
          log(`${name} (${root}):`);
          await withServer(startCnnBuild(root, name, tmp.dir, o.workers), async (srv) => {
            const m = { ...o, model: 'cnn', scrapes: true };
            for (const p of PROTOCOLS) rows.push(await measure(srv, name, p, o.connections, m));
          });
        }
      }
      if (withSingle) {
        log('one connection, builds interleaved request by request:');
        const started: [string, ServerProcess][] = [];
        try {
          for (const [name, root] of builds)
            started.push([name, await startCnnBuild(root, `${name}-1`, tmp.dir, o.workers)]);
          if (!skipEcho) started.push(['echo', await startEcho()]);
          for (const p of ['v2-binary', 'rest-json'] as Protocol[])
            rows.push(...(await interleaved(started, p, o.single, singleClient as 'raw' | 'fetch')));
        } finally {
          for (const [, s] of started) await s.stop();
        }
      }
      log('engine, in process:');
      const ceiling = await measureEngineCeiling({
        modelPath: path.join(REPO_ROOT, 'models', 'cnn', '1', 'model.onnx'),
        rowShape: [28, 28, 1],
        threads: 1,
        secondsPerPoint: 0.5,
      });
      const at1 = ceiling.points.find((p) => p.batchSize === 1);
      batch1Us = at1 ? 1e6 / at1.samplesPerS : Number.NaN;
    },
    async () => tmp.dispose(),
  );

  const find = (server: string, protocol: string, conns: number) =>
    rows.filter((r) => r.server === server && r.protocol === protocol && r.connections === conns);
  const mean = (rs: Row[], f: (r: Row) => number | undefined) => {
    const v = rs.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
    return v.length === 0 ? undefined : v.reduce((a, b) => a + b, 0) / v.length;
  };
  const header = [
    'server',
    'protocol',
    'conns',
    'req/s',
    'p50 ms',
    'p99 ms',
    'mean batch',
    'main µs/req',
    'vs echo',
    'vs baseline',
    'errors',
  ];
  const f = (n: number | undefined, d = 2) => (n === undefined ? 'n/a' : n.toFixed(d));
  const cells = rows.map((r) => {
    const echo = find('echo', r.protocol, r.connections)[0];
    const base =
      r.server === 'tensorserve' && r.connections > 1
        ? mean(find('baseline', r.protocol, r.connections), (x) => x.result.throughput)
        : undefined;
    return [
      r.server,
      r.protocol,
      String(r.connections),
      r.result.throughput.toFixed(0),
      r.result.latencyMs.p50.toFixed(2),
      r.result.latencyMs.p99.toFixed(2),
      f(r.meanBatch),
      f(r.mainUs, 0),
      // One-connection rows are interleaved: their req/s is the shared loop's, not a capacity.
      echo && r.server !== 'echo' && r.connections > 1
        ? ratio(r.result.throughput, echo.result.throughput)
        : '',
      base !== undefined ? ratio(r.result.throughput, base) : '',
      String(r.result.errors),
    ];
  });
  const checks: string[] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  for (const name of builds.map((b) => b[0])) {
    const p50 = (p: Protocol, server = name) => mean(find(server, p, 1), (r) => r.result.latencyMs.p50);
    const tput = (p: Protocol, server = name) =>
      mean(find(server, p, o.connections), (r) => r.result.throughput);
    const p99 = (p: Protocol, server = name) =>
      mean(find(server, p, o.connections), (r) => r.result.latencyMs.p99);
    const lines: string[] = [];
    for (const [p, target] of [
      ['v2-binary', 150],
      ['rest-json', 300],
    ] as [Protocol, number][]) {
      const at1 = p50(p);
      if (at1 === undefined) continue;
      const over = at1 * 1000 - batch1Us;
      const echo = p50(p, 'echo');
      lines.push(
        `1-conn p50 ${p} − in-process batch-1 (${batch1Us.toFixed(0)} µs) = ${over.toFixed(0)} µs (target <= ${target}): ${verdict(over <= target)}` +
          (echo === undefined
            ? ''
            : ` (the echo's 1-conn p50, the front end's and load generator's floor, is ${(echo * 1000).toFixed(0)} µs)`),
      );
    }
    const batch = mean(find(name, 'rest-json', o.connections), (r) => r.meanBatch);
    if (batch !== undefined)
      lines.push(
        `mean batch at ${o.connections} conns, REST JSON ${batch.toFixed(1)} (target >= 16): ${verdict(batch >= 16)}`,
      );
    const bin = tput('v2-binary');
    const binP99 = p99('v2-binary');
    for (const p of ['grpc-infer', 'grpc-predict'] as Protocol[]) {
      const t = tput(p);
      const q = p99(p);
      if (t === undefined || q === undefined || bin === undefined || binP99 === undefined) continue;
      lines.push(
        `${p} ${ratio(t, bin)} of v2 binary req/s (target >= 0.8x): ${verdict(t >= 0.8 * bin)}; p99 ${ratio(q, binP99)} of v2 binary's (target <= 2x): ${verdict(q <= 2 * binP99)}`,
      );
    }
    const echoBin = tput('v2-binary', 'echo');
    if (bin !== undefined && echoBin !== undefined)
      lines.push(
        `v2 binary ${ratio(bin, echoBin)} of the fastify echo's req/s (target >= 0.6x): ${verdict(bin >= 0.6 * echoBin)}`,
      );
    const json = tput('rest-json');
    const naive = tput('rest-json', 'naive');
    const jsonP99 = p99('rest-json');
    const naiveP99 = p99('rest-json', 'naive');
    if (json !== undefined && naive !== undefined && jsonP99 !== undefined && naiveP99 !== undefined)
      lines.push(
        `REST JSON ${ratio(json, naive)} of the naive server's req/s (target >= 2.0x): ${verdict(json >= 2 * naive)}; p99 ${jsonP99.toFixed(1)} ms vs naive ${naiveP99.toFixed(1)} ms (target: no worse): ${verdict(jsonP99 <= naiveP99)}`,
      );
    checks.push(`${name}: ${lines.join('; ')}`);
  }
  const context = {
    machine: machineLine(machine),
    command: `npm run bench:latency -- ${process.argv.slice(2).join(' ')}`.trim(),
    settings: o,
    batch1Us,
  };
  const notes = [
    `${context.machine}; ${o.workers} worker(s), intra_op_threads 1, max_batch_size 32, batch_timeout_micros 1000 (each build's defaults otherwise); ${o.warmupS} s warm-up + ${o.durationS} s per row; closed loop; load generator on the same cores.`,
    "main µs/req: the server main thread's CPU time (utime+stime, /proc) over the measured interval / answered requests.",
    `in-process batch-1 run of the CNN: ${batch1Us.toFixed(0)} µs.`,
  ];
  const text = [...notes, '', textTable(header, cells), '', ...checks].join('\n');
  const md = [
    '# Latency benchmark',
    '',
    `Command: \`${context.command}\`.`,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    markdownTable(header, cells),
    '',
    ...checks.map((c) => `- ${c}`),
    '',
  ].join('\n');
  publishResults(
    'latency-bench',
    { ...context, machineInfo: machine, rows, checks },
    text,
    md,
    flags.str('out', path.join(REPO_ROOT, 'load-tests', 'results')),
  );
}

await main();
