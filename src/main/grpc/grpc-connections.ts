import { constants as http2 } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import type { GrpcConnectionSettings } from '../config/connection-config.js';
import type { ConnectionBudget } from '../net/connection-budget.js';
import { clampGrpcTimeout } from '../net/deadline-cap.js';
import { type NoticeSession, ShutdownNotice } from './shutdown-notice.js';

/** grpc-js channel options for HTTP/2 connection management; 0 in the settings = off (omitted). */
export function grpcConnectionOptions(s: GrpcConnectionSettings): grpc.ServerOptions {
  const options: Record<string, number> = {};
  const set = (key: string, value: number) => {
    if (value > 0) options[key] = value;
  };
  set('grpc.max_connection_idle_ms', s.maxConnectionIdleMs);
  set('grpc.max_connection_age_ms', s.maxConnectionAgeMs);
  set('grpc.max_connection_age_grace_ms', s.maxConnectionAgeGraceMs);
  set('grpc.keepalive_time_ms', s.keepaliveTimeMs);
  set('grpc.keepalive_timeout_ms', s.keepaliveTimeoutMs);
  return options;
}

interface SessionLike extends NoticeSession {
  readonly socket: Socket | null;
  goaway(code: number, lastStreamID: number, opaqueData: Buffer): void;
  destroy(): void;
}

/**
 * What the gRPC front end adds to grpc-js at the connection level, on each of its bound HTTP/2
 * servers: every TCP connection is tracked (so the shutdown deadline can destroy even ones that
 * never sent a byte), counted against the shared connection cap (over it, the client gets a
 * GOAWAY REFUSED_STREAM before any stream (grpc-js clients see UNAVAILABLE) and the connection closes), and every
 * `grpc-timeout` is clamped to `maxDeadlineMs` before grpc-js reads it (grpc-js wraps values of
 * about 25 days or more into an instant DEADLINE_EXCEEDED).
 *
 * grpc-js exposes no hook for this: it reaches its HTTP/2 servers through the `http2Servers`
 * field (grpc-js 1.10 to 1.14). Should a later grpc-js drop that field, `attach` returns false
 * (the server logs it) and grpc-js's own forceShutdown is the only deadline left.
 */
export class GrpcConnections {
  readonly #sockets = new Set<Socket>();
  /** HTTP/2 sessions within the cap (over-limit ones are refused), with their open streams. */
  readonly #sessions = new Map<SessionLike, number>();
  readonly #notice = new ShutdownNotice((session) => this.#sessions.get(session as SessionLike) ?? 0);
  readonly #servers: NetServer[] = [];
  /** Over-limit connections by `address:port` (an HTTP/2 session's socket is a proxy, not the TCP socket). */
  readonly #overLimit = new Set<string>();

  constructor(
    private readonly budget: ConnectionBudget | undefined,
    private readonly maxDeadlineMs: number,
  ) {}

  /** Hooks into the bound servers of `server` (call after bindAsync). False when grpc-js hides them. */
  attach(server: grpc.Server): boolean {
    const servers = (server as unknown as { http2Servers?: Map<NetServer, unknown> }).http2Servers;
    if (!(servers instanceof Map)) return false;
    for (const h2 of servers.keys()) this.#attachTo(h2);
    return true;
  }

  /** Open TCP connections. */
  get open(): number {
    return this.#sockets.size;
  }

  /** Destroys every open connection (the drain deadline); returns how many there were. */
  destroyAll(): number {
    const n = this.#sockets.size;
    for (const socket of this.#sockets) socket.destroy();
    return n;
  }

  /**
   * Drain, before the final GOAWAYs (see ShutdownNotice): the listeners close; every open
   * session keeps accepting streams and gets PINGs until an answer comes while the peer has a
   * stream open (or after a few idle answers), then its final GOAWAY, which so covers every
   * stream the peer sent before it. Resolves once every session had it or closed, or after
   * `timeoutMs` (0: at once); grpc-js's tryShutdown then sends the final GOAWAY to the rest.
   */
  noticeShutdown(timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0 || this.#notice.started) return Promise.resolve();
    // No new connection meanwhile (a balancer retries a refused connect elsewhere): the set of
    // sessions to hear from only shrinks. grpc-js's tryShutdown closes these servers again,
    // which Node allows (its callback runs once the connections are gone).
    for (const h2 of this.#servers) h2.close();
    return this.#notice.start(this.#sessions.keys(), timeoutMs);
  }

  #countStream(stream: StreamLike): void {
    const session = stream.session;
    const open = session === undefined ? undefined : this.#sessions.get(session);
    if (session === undefined || open === undefined) return;
    this.#sessions.set(session, open + 1);
    stream.once('close', () => {
      const now = this.#sessions.get(session);
      if (now !== undefined) this.#sessions.set(session, now - 1);
    });
  }

  #attachTo(h2: NetServer): void {
    this.#servers.push(h2);
    // Prepended: Node creates (and announces) the session inside its own 'connection' listener.
    h2.prependListener('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      const counted = this.budget === undefined || this.budget.tryTake();
      const key = peerKey(socket);
      if (!counted) this.#overLimit.add(key);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (counted) this.budget?.release();
        else this.#overLimit.delete(key);
      });
    });
    h2.prependListener('session', (session: SessionLike) => {
      const socket = session.socket;
      if (socket === null || !this.#overLimit.has(peerKey(socket))) {
        this.#sessions.set(session, 0);
        session.once('close', () => this.#sessions.delete(session));
        this.#notice.add(session);
        return;
      }
      try {
        session.goaway(http2.NGHTTP2_REFUSED_STREAM, 0, Buffer.from('too many connections'));
        session.close();
      } catch {
        session.destroy();
      }
      setTimeout(() => session.destroy(), 1000).unref();
    });
    h2.prependListener(
      'stream',
      (stream: StreamLike, headers: Record<string, string | string[] | undefined>) => {
        this.#countStream(stream);
        const value = headers['grpc-timeout'];
        if (typeof value === 'string') headers['grpc-timeout'] = clampGrpcTimeout(value, this.maxDeadlineMs);
      },
    );
  }
}

/** The parts of a server Http2Stream the stream count uses. */
interface StreamLike {
  readonly session: SessionLike | undefined;
  once(event: 'close', listener: () => void): unknown;
}

function peerKey(socket: { remoteAddress?: string; remotePort?: number }): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
