import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { ConnectionSettings } from '../config/connection-config.js';
import type { ConnectionBudget } from '../net/connection-budget.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type AnyServer = http.Server | https.Server;

export interface HttpConnectionsOptions {
  readonly settings: ConnectionSettings;
  /** The cap shared with the gRPC front end; none when absent. */
  readonly budget?: ConnectionBudget;
  /** TLS material; plain HTTP when absent. */
  readonly tls?: https.ServerOptions;
}

const OVER_LIMIT_BODY = JSON.stringify({
  error: 'Too many connections to this server (server.connections.max_connections); retry later',
});

/**
 * Owns the REST front end's HTTP server and every connection on it: the header, body and
 * keep-alive timeouts (Node's headersTimeout, requestTimeout and keepAliveTimeout), the
 * shared connection cap, and the connection side of a graceful shutdown.
 *
 * Cap: a connection over it is still read, and its first request is answered 503 with
 * `Connection: close` (so clients see why, and a flood cannot hold descriptors), then closed.
 *
 * Shutdown (`stopAccepting`): the listener closes; every response not yet started, and every
 * request arriving later on an open connection, is answered with `Connection: close`, so busy
 * keep-alive connections end after their answer; connections idle for `drainIdleGraceMs` are
 * then closed (a request already received on one is never dropped: Node keeps those). At the
 * deadline `destroyAll` ends whatever is left (stalled headers or bodies).
 *
 * Created by the REST server (as fastify's serverFactory); `handler` is fastify's.
 */
export class HttpConnections {
  readonly server: AnyServer;
  readonly #sockets = new Set<Socket>();
  readonly #overLimit = new WeakSet<Socket>();
  readonly #responses = new Set<ServerResponse>();
  readonly #settings: ConnectionSettings;
  #closing = false;
  #allClosed: (() => void) | undefined;

  constructor(handler: Handler, options: HttpConnectionsOptions) {
    const s = options.settings;
    this.#settings = s;
    const serverOptions: http.ServerOptions = {
      headersTimeout: s.headerTimeoutMs,
      requestTimeout: s.bodyTimeoutMs,
      keepAliveTimeout: s.keepAliveTimeoutMs,
      // How often Node checks the header and body timeouts (its default is 30 s).
      connectionsCheckingInterval: checkInterval(s),
    };
    const onRequest: Handler = (req, res) => this.#onRequest(handler, req, res);
    this.server = options.tls
      ? https.createServer(
          { ...serverOptions, ...options.tls, handshakeTimeout: s.headerTimeoutMs },
          onRequest,
        )
      : http.createServer(serverOptions, onRequest);
    this.server.keepAliveTimeout = s.keepAliveTimeoutMs;
    this.server.requestTimeout = s.bodyTimeoutMs;
    const budget = options.budget;
    // Counted at the TCP level, before any TLS handshake, so handshakes cannot exhaust descriptors.
    this.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      const counted = budget === undefined || budget.tryTake();
      if (!counted) this.#overLimit.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (counted) budget?.release();
        if (this.#sockets.size === 0) this.#allClosed?.();
      });
    });
  }

  /** Open connections (over-limit ones included). */
  get open(): number {
    return this.#sockets.size;
  }

  /**
   * Stops accepting and closes connections as described above (idle ones after `idleGraceMs`,
   * default drainIdleGraceMs); resolves once every connection has closed (call `destroyAll`
   * at the deadline to force that).
   */
  stopAccepting(idleGraceMs = this.#settings.drainIdleGraceMs): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      // net.Server's close only: http.Server's would also close idle keep-alive connections
      // at once, racing requests that clients are sending on them right now.
      if (this.server.listening) net.Server.prototype.close.call(this.server);
      for (const res of this.#responses) if (!res.headersSent) res.setHeader('connection', 'close');
      if (idleGraceMs > 0) setTimeout(() => this.server.closeIdleConnections(), idleGraceMs).unref();
      else this.server.closeIdleConnections();
    }
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#allClosed;
      this.#allClosed = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Destroys every open connection (the drain deadline); returns how many there were. */
  destroyAll(): number {
    const n = this.#sockets.size;
    for (const socket of this.#sockets) socket.destroy();
    return n;
  }

  #onRequest(handler: Handler, req: IncomingMessage, res: ServerResponse): void {
    // Over TLS the request's socket wraps the TCP socket that was counted (`_parent`).
    const tcp = (req.socket as { _parent?: Socket | null })._parent ?? req.socket;
    if (this.#overLimit.has(tcp)) {
      res.writeHead(503, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(OVER_LIMIT_BODY),
        connection: 'close',
        'retry-after': '1',
      });
      res.end(OVER_LIMIT_BODY);
      return;
    }
    if (this.#closing) res.setHeader('connection', 'close');
    this.#responses.add(res);
    res.once('close', () => this.#responses.delete(res));
    handler(req, res);
  }
}

function checkInterval(s: ConnectionSettings): number {
  const shortest = Math.min(s.headerTimeoutMs, s.bodyTimeoutMs > 0 ? s.bodyTimeoutMs : s.headerTimeoutMs);
  return Math.max(100, Math.min(1000, Math.floor(shortest / 4)));
}
