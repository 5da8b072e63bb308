import net from 'node:net';
import { type Instance, statusOf } from './instances.js';

/**
 * A stand-in for a Kubernetes Service (kube-proxy): balances TCP connections, not requests,
 * over the endpoints whose readiness probe (/v2/health/ready) last answered 200, to the
 * endpoint with the fewest open connections. A long-lived gRPC channel stays on the pod it
 * first reached until the server ends the connection (max connection age).
 */
export class ServiceProxy {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly ready = new Set<Instance>();
  private readonly open = new Map<Instance, number>();
  private readonly accepted = new Map<Instance, number>();
  private readonly probeTimer: NodeJS.Timeout;
  private port = 0;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly endpoints: readonly Instance[]) {
    for (const e of endpoints) {
      this.open.set(e, 0);
      this.accepted.set(e, 0);
    }
    this.probeTimer = setInterval(() => void this.probe(), 250);
  }

  async listen(): Promise<string> {
    await this.probe();
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  /** Connections open to `e` now. */
  openConnections(e: Instance): number {
    return this.open.get(e) ?? 0;
  }

  /** Connections ever routed to `e`. */
  acceptedConnections(e: Instance): number {
    return this.accepted.get(e) ?? 0;
  }

  /** Whether the last readiness probe of `e` answered 200 (it receives new connections). */
  isEndpoint(e: Instance): boolean {
    return this.ready.has(e);
  }

  async close(): Promise<void> {
    clearInterval(this.probeTimer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async probe(): Promise<void> {
    await Promise.all(
      this.endpoints.map(async (e) => {
        if ((await statusOf(`${e.restUrl}/v2/health/ready`)) === 200) this.ready.add(e);
        else this.ready.delete(e);
      }),
    );
  }

  private accept(client: net.Socket): void {
    let target: Instance | undefined;
    for (const e of this.ready)
      if (!target || this.openConnections(e) < this.openConnections(target)) target = e;
    if (!target) {
      client.destroy();
      return;
    }
    const e = target;
    this.open.set(e, this.openConnections(e) + 1);
    this.accepted.set(e, this.acceptedConnections(e) + 1);
    const upstream = net.connect(e.grpcPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let closed = false;
    const done = () => {
      if (closed) return;
      closed = true;
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.open.set(e, this.openConnections(e) - 1);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
