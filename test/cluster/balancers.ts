import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnWatched } from '../../load-tests/watched-child.js';
import { REPO_ROOT } from '../fixtures/repo-root.js';
import { clusterPort, type Instance, waitUntil } from './instances.js';

const run = promisify(execFile);

export const HAPROXY_CFG = path.join(REPO_ROOT, 'deploy', 'haproxy', 'haproxy.cfg');
export const NGINX_CONF = path.join(REPO_ROOT, 'deploy', 'nginx', 'nginx.conf');

/** The ports the shipped configs document: balancer 8501/8500, instances ts1..ts3, HAProxy stats. */
const SHIPPED = { rest: 8501, grpc: 8500, stats: 8404, instances: [8511, 8521, 8531] } as const;

export type BalancerKind = 'haproxy' | 'nginx';

/** A balancer process in front of three instance slots. */
export interface Balancer {
  readonly kind: BalancerKind;
  readonly restUrl: string;
  readonly grpcAddress: string;
  /** HAProxy only: per-server rows of the stats CSV. */
  stats(): Promise<ServerStats[]>;
  /** What the balancer logged at warn level or above so far (nginx's error.log, HAProxy's output). */
  errors(): string;
  stop(): Promise<void>;
}

/** One server row of HAProxy's stats CSV. */
export interface ServerStats {
  readonly backend: string;
  readonly server: string;
  /** UP, DOWN, NOLB, MAINT, "UP 1/2" (going down), ... */
  readonly status: string;
  /** Current sessions (requests in flight on it). */
  readonly scur: number;
  /** Total sessions it has received. */
  readonly stot: number;
}

/**
 * The shipped config with only its addresses changed: every documented port is replaced by
 * the test's port for the same role (instance slot i = ts{i+1}, REST port and gRPC port = REST - 1).
 */
export function templated(text: string, ports: Map<number, number>): string {
  return text.replace(/\b(85\d\d|8404)\b/g, (m) => String(ports.get(Number(m)) ?? m));
}

async function portMap(
  slots: readonly Instance[],
): Promise<{ map: Map<number, number>; rest: number; grpc: number; stats: number }> {
  if (slots.length !== SHIPPED.instances.length) throw new Error('three instance slots expected');
  const rest = await clusterPort();
  const grpc = await clusterPort();
  const stats = await clusterPort();
  const map = new Map<number, number>([
    [SHIPPED.rest, rest],
    [SHIPPED.grpc, grpc],
    [SHIPPED.stats, stats],
  ]);
  slots.forEach((inst, i) => {
    map.set(SHIPPED.instances[i], inst.restPort);
    map.set(SHIPPED.instances[i] - 1, inst.grpcPort);
  });
  return { map, rest, grpc, stats };
}

/** `haproxy -c` / `nginx -t` on a config file; resolves to the tool's output, rejects when invalid. */
export async function checkConfig(kind: BalancerKind, file: string, prefix?: string): Promise<string> {
  const { stdout, stderr } =
    kind === 'haproxy'
      ? await run('haproxy', ['-c', '-f', file])
      : await run('nginx', ['-t', '-c', file, ...(prefix ? ['-p', prefix, '-g', nginxGlobals(prefix)] : [])]);
  return stdout + stderr;
}

function nginxGlobals(prefix: string): string {
  return `pid ${prefix}/nginx.pid; error_log ${prefix}/error.log notice;`;
}

/** Starts HAProxy or nginx with the shipped config, its ports templated onto `slots`. */
export async function startBalancer(kind: BalancerKind, slots: readonly Instance[]): Promise<Balancer> {
  const { map, rest, grpc, stats } = await portMap(slots);
  const dir = mkdtempSync(path.join(tmpdir(), `ts-${kind}-`));
  const shipped = readFileSync(kind === 'haproxy' ? HAPROXY_CFG : NGINX_CONF, 'utf8');
  const file = path.join(dir, kind === 'haproxy' ? 'haproxy.cfg' : 'nginx.conf');
  writeFileSync(file, templated(shipped, map));
  await checkConfig(kind, file, kind === 'nginx' ? dir : undefined);
  const args =
    kind === 'haproxy'
      ? ['-db', '-f', file]
      : ['-c', file, '-p', dir, '-g', `daemon off; ${nginxGlobals(dir)}`];
  const proc = spawnWatched(kind, args);
  const restUrl = `http://127.0.0.1:${rest}`;
  const statsUrl = `http://127.0.0.1:${stats}/stats;csv`;
  await waitUntil(
    async () => {
      if (proc.exited()) throw new Error(`${kind} exited:\n${proc.tail()}`);
      try {
        const res = await fetch(restUrl, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return true;
      } catch {
        return false;
      }
    },
    `${kind} listening`,
    10_000,
  );
  return {
    kind,
    restUrl,
    grpcAddress: `127.0.0.1:${grpc}`,
    async stats() {
      if (kind !== 'haproxy') throw new Error('stats are read from HAProxy only');
      const text = await (await fetch(statsUrl)).text();
      const [header, ...rows] = text.trim().split('\n');
      const cols = header.replace(/^# /, '').split(',');
      const at = (name: string) => cols.indexOf(name);
      return rows
        .map((r) => r.split(','))
        .filter((c) => c[at('svname')] !== 'FRONTEND' && c[at('svname')] !== 'BACKEND')
        .map((c) => ({
          backend: c[at('pxname')],
          server: c[at('svname')],
          status: c[at('status')],
          scur: Number(c[at('scur')]),
          stot: Number(c[at('stot')]),
        }));
    },
    errors() {
      if (kind === 'haproxy') return proc.tail();
      let log = '';
      try {
        log = readFileSync(path.join(dir, 'error.log'), 'utf8');
      } catch {}
      return log
        .split('\n')
        .filter((line) => /\[(warn|error|crit|alert|emerg)\]/.test(line))
        .join('\n');
    },
    async stop() {
      await proc.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until HAProxy's checks put `server` in `status` in both backends. */
export async function waitServerStatus(
  b: Balancer,
  server: string,
  status: 'UP' | 'DOWN',
  timeoutMs = 20_000,
) {
  await waitUntil(
    async () => {
      const rows = (await b.stats()).filter((r) => r.server === server);
      return rows.length === 2 && rows.every((r) => r.status === status);
    },
    `HAProxy to mark ${server} ${status}`,
    timeoutMs,
    200,
  );
}
