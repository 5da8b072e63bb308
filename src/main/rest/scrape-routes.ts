import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { registerMetricsRoutes } from '../metrics/metrics-routes.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { sendError } from './rest-context.js';

export interface ScrapeRouteOptions {
  readonly metrics: ServerMetrics;
  /** The paths served (server.prometheus.path and `/metrics`). */
  readonly paths: readonly string[];
  /** Throws a ServingError when the request's credentials may not scrape (Authenticator.authorizeScrape). */
  readonly authorize: (headers: IncomingHttpHeaders) => void;
}

/**
 * The Prometheus scrape endpoints, with the credential check in a scope of their own so it
 * covers these paths only.
 */
export function registerScrapeRoutes(app: FastifyInstance, opts: ScrapeRouteOptions): void {
  void app.register(async (scoped) => {
    scoped.addHook('onRequest', async (request, reply) => {
      try {
        opts.authorize(request.headers);
      } catch (err) {
        return sendError(reply, err);
      }
    });
    registerMetricsRoutes(scoped, opts.metrics, opts.paths);
  });
}
