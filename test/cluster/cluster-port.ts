import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * Ports for the cluster's instances and balancers, taken from BELOW the kernel's ephemeral
 * range. An instance keeps its ports across a rolling restart, and with
 * `server.grpc.listen_when_ready` binds its gRPC port only once its model is loaded; a port
 * from the ephemeral range (what `listen(0)` hands out) can meanwhile be taken as the local
 * port of one of the thousands of outgoing connections the balancers and load clients open
 * (seen in CI as EADDRINUSE on a restarted instance). Ports below the range are never handed
 * out to outgoing connections, so only an explicit bind can take them.
 */

/** [low, high] of net.ipv4.ip_local_port_range; Linux's default when it cannot be read. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low, high];
  } catch {
    // not Linux, or no /proc: fall through
  }
  return [32768, 60999];
}

const [EPHEMERAL_LOW] = ephemeralRange();
/** The pool: the 10,000 ports below the ephemeral range (above the well-known ones). */
const POOL_LOW = Math.max(1024, EPHEMERAL_LOW - 10_000);
const POOL_HIGH = EPHEMERAL_LOW - 1;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 outside the ephemeral range, free now and not handed out before by this process. */
export async function clusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = POOL_LOW + Math.floor(Math.random() * (POOL_HIGH - POOL_LOW + 1));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${POOL_LOW}-${POOL_HIGH} after 200 tries`);
}
