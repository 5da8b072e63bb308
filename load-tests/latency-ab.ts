/**
 * Simultaneous before/after of builds on a shared box: every build serves at the same time,
 * each under its own closed-loop load of `--connections` (32) from this process, for
 * `--rounds` rounds of `--duration` seconds per protocol. Whatever else runs on the machine
 * then falls on all builds alike within each round, which alternating runs (bench:latency's
 * --baseline) cannot promise when the box's load changes from one minute to the next. Each
 * round prints, per build, req/s and the main thread's CPU µs per answered request
 * (utime + stime of /proc/<pid>/task/<pid>), then the medians. A build whose main thread
 * costs less per request also answers more requests of the shared CPU.
 *
 *   node dist/load-tests/latency-ab.js --builds <repo root>,<repo root>[,...] \
 *     [--protocols rest-json,v2-binary] [--connections 32] [--duration 3] [--rounds 5]
 *
 * Each repo root must hold a build (`npx tsc -p tsconfig.json`, see bench:latency). The
 * servers: the example CNN, 1 worker, max_batch_size 32, batch_timeout_micros 1000.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Flags, tempDir, withCleanup } from './bench-common.js';
import { startCnnBuild } from './bench-servers.js';
import { protocolLoad } from './protocol-load.js';
import { cnnImage, type Protocol } from './scenarios.js';
import type { ServerProcess } from './server-process.js';

const USAGE = `Usage: node dist/load-tests/latency-ab.js --builds <root>,<root>[,...] [--protocols rest-json,v2-binary]
  [--connections 32] [--duration 3] [--rounds 5]`;

function mainThreadCpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const roots = flags
    .str('builds', '')
    .split(',')
    .filter((r) => r !== '')
    .map((r) => path.resolve(r));
  if (roots.length < 2) throw new Error(`--builds needs two or more repo roots\n${USAGE}`);
  const protocols = flags.str('protocols', 'rest-json,v2-binary').split(',') as Protocol[];
  const connections = flags.num('connections', 32);
  const durationS = flags.num('duration', 3);
  const rounds = flags.num('rounds', 5);
  const tmp = tempDir('tensorserve-latency-ab-');
  const servers: ServerProcess[] = [];
  await withCleanup(
    async () => {
      for (const [i, root] of roots.entries())
        servers.push(await startCnnBuild(path.join(root, 'dist'), `build-${i}`, tmp.dir, 1));
      for (const protocol of protocols) {
        const loads = servers.map((s) =>
          protocolLoad(protocol, s, 'cnn', [cnnImage(1)], { grpcClient: 'h2' }),
        );
        for (const l of loads) await l.check();
        await Promise.all(loads.map((l) => l.run(connections, 1)));
        const rps: number[][] = roots.map(() => []);
        const us: number[][] = roots.map(() => []);
        for (let r = 0; r < rounds; r++) {
          const cpu0 = servers.map((s) => mainThreadCpuS(s.pid));
          const results = await Promise.all(loads.map((l) => l.run(connections, durationS)));
          const cpu1 = servers.map((s) => mainThreadCpuS(s.pid));
          results.forEach((x, i) => {
            rps[i].push(x.throughput);
            us[i].push(((cpu1[i] - cpu0[i]) * 1e6) / Math.max(1, x.ok));
          });
          console.log(
            `${protocol} round ${r + 1}: ` +
              roots
                .map(
                  (root, i) => `${root}: ${rps[i][r].toFixed(0)} req/s, ${us[i][r].toFixed(0)} main µs/req`,
                )
                .join('; '),
          );
        }
        for (const [i, root] of roots.entries())
          console.log(
            `${protocol} ${root}: median ${median(rps[i]).toFixed(0)} req/s, median ${median(us[i]).toFixed(0)} main µs/req (rounds: ${us[i].map((u) => u.toFixed(0)).join('/')})`,
          );
      }
    },
    async () => {
      for (const s of servers) await s.stop();
      tmp.dispose();
    },
  );
}

await main();
