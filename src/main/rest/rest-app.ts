import type { IncomingHttpHeaders } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { ServingError } from '../../core/errors.js';
import { type ConnectionSettings, DEFAULT_CONNECTION_SETTINGS } from '../config/connection-config.js';
import type { TlsConfig } from '../config/server-config.js';
import { tlsMaterial } from '../config/tls-material.js';
import type { AccessEntry, AccessLogSampler } from '../logging/access-log.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../logging/request-id.js';
import type { ConnectionBudget } from '../net/connection-budget.js';
import type { InferenceCore } from '../serving/inference-core.js';
import type { ArrivalPass } from '../tenancy/admission.js';
import { type AdminRouteOptions, registerAdminRoutes } from './admin-routes.js';
import { registerArrivalAdmission } from './arrival-admission.js';
import { registerContentDecoding, UNSUPPORTED_ENCODING } from './content-encoding.js';
import { registerHealthRoutes } from './health-routes.js';
import { HttpConnections } from './http-connections.js';
import { type KServeRouteOptions, registerKServeRoutes } from './kserve-routes.js';
import { authenticateOnce, notePeerCertificate, sendError } from './rest-context.js';
import type { RestOptions } from './rest-options.js';
import { registerScrapeRoutes, type ScrapeRouteOptions } from './scrape-routes.js';
import type { ExampleRoutesOptions } from './tfs-example-routes.js';
import { registerTfServingRoutes } from './tfserving-routes.js';

export interface RestAppOptions extends RestOptions, ExampleRoutesOptions {
  readonly tls: TlsConfig | undefined;
  readonly logger: Logger;
  /** Which requests get an access log line; none when absent. */
  readonly accessLog?: AccessLogSampler;
  /**
   * The tenant admission on arrival (`AdmissionController.arrive`). When set (tenancy on),
   * inference requests are authenticated and admitted before their body is read
   * (arrival-admission.ts); when absent, their handlers authenticate and the core admits.
   */
  readonly arrive?: (tenant: string | undefined) => ArrivalPass;
  /** The KServe v2 routes' own settings (server version, repository, statistics). */
  readonly kserve: Pick<KServeRouteOptions, 'serverVersion' | 'repository' | 'stats'>;
  /** The Prometheus scrape endpoints; not served when absent. */
  readonly scrape?: ScrapeRouteOptions;
  /** `GET /admin/tenants`; not served when absent. */
  readonly admin?: Pick<AdminRouteOptions, 'tenancyReport'>;
  /** Header, body and keep-alive timeouts, the drain's idle grace; defaults when absent. */
  readonly connections?: ConnectionSettings;
  /** The connection cap shared with the gRPC front end; none when absent. */
  readonly budget?: ConnectionBudget;
}

/** A built REST app: every route registered, nothing listening yet. */
export interface RestApp {
  readonly app: FastifyInstance;
  /** The HTTP server under the app, with its timeouts, cap and drain (see HttpConnections). */
  readonly connections: HttpConnections;
}

/**
 * Builds the REST front end without listening: TF Serving routes, health, KServe v2, the
 * scrape and admin routes, hooks and error handlers, over an HTTP server (HttpConnections)
 * that is not bound yet, so tests can call `app.inject()`. Bodies arrive as raw Buffers
 * whatever their content type (TF Serving ignores it, curl -d sends form encoding) and the
 * routes decode them with the project's own codecs, so one parser policy and one set of
 * limits apply everywhere.
 */
export function buildRestApp(core: InferenceCore, options: RestAppOptions): RestApp {
  // One authentication per request, shared by the arrival hook, the routes and the access line.
  const opts: RestAppOptions = { ...options, authenticate: authenticateOnce(options.authenticate) };
  let connections: HttpConnections | undefined;
  // One app type whether or not TLS is on: routes never depend on the transport.
  const app = Fastify({
    // The HTTP server, its timeouts, connection cap and drain are HttpConnections' concern.
    serverFactory: (handler) => {
      connections = new HttpConnections(handler, {
        settings: opts.connections ?? DEFAULT_CONNECTION_SETTINGS,
        budget: opts.budget,
        tls: opts.tls
          ? {
              ...tlsMaterial(opts.tls),
              requestCert: opts.tls.requireClientCert,
              rejectUnauthorized: opts.tls.requireClientCert,
            }
          : undefined,
      });
      return connections.server;
    },
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: opts.limits.maxBodyBytes,
    // fastify's own per-request lines are off; the onResponse hook writes one access line.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
    // Fastify's own routing errors (a URL with bad percent-encoding) answer in the project's
    // error format, like every other error.
    frameworkErrors: (err, request, reply) => {
      if ((err.statusCode ?? 500) >= 500) return sendError(reply, err);
      const problem = err.code === 'FST_ERR_BAD_URL' ? 'the URL is not validly percent-encoded' : err.message;
      return sendError(
        reply,
        new ServingError(
          'INVALID_ARGUMENT',
          `Malformed request: ${request.method} ${request.url}: ${problem}`,
        ),
      );
    },
  }) as unknown as FastifyInstance;
  const conns = connections as unknown as HttpConnections;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: opts.limits.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler((err, _request, reply) => {
    const e = err as { code?: string; statusCode?: number; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .type('application/json')
        .send(
          JSON.stringify({
            error: `Request body is larger than the limit of ${opts.limits.maxBodyBytes} bytes (server.limits.max_body_bytes)`,
          }),
        );
    }
    if (e.code === UNSUPPORTED_ENCODING) {
      return reply
        .code(415)
        .type('application/json')
        .send(JSON.stringify({ error: e.message }));
    }
    if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
      return sendError(reply, new ServingError('INVALID_ARGUMENT', e.message));
    }
    return sendError(reply, err);
  });
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/v1')) {
      return sendError(
        reply,
        new ServingError('INVALID_ARGUMENT', `Malformed request: ${request.method} ${request.url}`),
      );
    }
    return sendError(
      reply,
      new ServingError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`),
    );
  });
  registerContentDecoding(app, opts.limits.maxBodyBytes);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  const accessLog = opts.accessLog;
  if (accessLog) {
    app.addHook('onResponse', (request, reply, done) => {
      const status = reply.statusCode;
      if (accessLog.shouldLog(status >= 400)) {
        const url = request.url.split('?')[0];
        const model = modelOfPath(url);
        const entry: AccessEntry = {
          method: request.method,
          url,
          status,
          duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
          ...(model === undefined ? {} : { model }),
          ...tenantOf(opts, request.headers),
        };
        request.log.info(entry, 'access');
      }
      done();
    });
  }
  if (opts.tls?.requireClientCert) {
    app.addHook('onRequest', (request, _reply, done) => {
      notePeerCertificate(request);
      done();
    });
  }
  // After the certificate hook: credentials may be the client certificate.
  if (opts.arrive) registerArrivalAdmission(app, { authenticate: opts.authenticate, arrive: opts.arrive });
  registerTfServingRoutes(app, core, opts);
  registerHealthRoutes(app, core);
  if (opts.scrape !== undefined) registerScrapeRoutes(app, opts.scrape);
  if (opts.admin !== undefined) registerAdminRoutes(app, { authenticate: opts.authenticate, ...opts.admin });
  registerKServeRoutes(app, core, { ...opts, ...opts.kserve });
  return { app, connections: conns };
}

/** The caller's tenant for the access line; nothing when tenancy is off or the credentials fail. */
function tenantOf(opts: RestAppOptions, headers: IncomingHttpHeaders): { tenant?: string } {
  try {
    const tenant = opts.authenticate(headers)?.tenant;
    return tenant === undefined ? {} : { tenant };
  } catch {
    return {};
  }
}

/** The model a `/v1/models/<m>...` or `/v2/models/<m>...` path names, as the client wrote it. */
function modelOfPath(url: string): string | undefined {
  const m = /^\/v[12]\/models\/([^/:]+)/.exec(url);
  if (m === null) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}
