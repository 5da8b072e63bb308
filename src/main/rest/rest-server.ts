import type { FastifyInstance } from 'fastify';
import type { InferenceCore } from '../serving/inference-core.js';
import type { HttpConnections } from './http-connections.js';
import { buildRestApp, type RestAppOptions } from './rest-app.js';

export interface RestServerOptions extends RestAppOptions {
  readonly host: string;
  readonly port: number;
}

export interface RestServer {
  readonly app: FastifyInstance;
  readonly port: number;
  /** The server's connections (see HttpConnections). */
  readonly connections: HttpConnections;
  /**
   * Shutdown, step one: stops accepting, answers with `Connection: close`, closes idle
   * connections; resolves once every accepted request has been answered and its connection closed.
   */
  stopAccepting(idleGraceMs?: number): Promise<void>;
  /** Shutdown deadline: destroys the connections still open; returns how many. */
  destroyAll(): number;
  /** Closes everything (stopAccepting first for a graceful end). */
  close(): Promise<void>;
}

/** Starts the REST front end: builds the app (buildRestApp) and listens on `host:port`. */
export async function startRestServer(core: InferenceCore, opts: RestServerOptions): Promise<RestServer> {
  const { app, connections: conns } = buildRestApp(core, opts);
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  return {
    app,
    port,
    connections: conns,
    stopAccepting: (idleGraceMs) => conns.stopAccepting(idleGraceMs),
    destroyAll: () => conns.destroyAll(),
    close: () => app.close(),
  };
}
