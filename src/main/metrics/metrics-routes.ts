import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from './server-metrics.js';

/** TF Serving's metrics path, and the conventional one. */
export const METRICS_PATHS = ['/monitoring/prometheus/metrics', '/metrics'] as const;

/**
 * Prometheus scrape endpoints at `paths` (default METRICS_PATHS): the text exposition format (0.0.4) of `metrics`' registry.
 * The KServe statistics route lives with the v2 routes and calls `metrics.statsResponse()`.
 */
export function registerMetricsRoutes(
  app: FastifyInstance,
  metrics: ServerMetrics,
  paths: readonly string[] = METRICS_PATHS,
): void {
  for (const path of new Set(paths)) {
    app.get(path, async (_req, reply) => {
      const text = await metrics.metricsText();
      return reply.code(200).header('content-type', metrics.contentType).send(text);
    });
  }
}
