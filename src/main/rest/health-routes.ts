import type { FastifyInstance } from 'fastify';
import type { InferenceCore } from '../serving/inference-core.js';

/**
 * Plain health endpoints for load balancers and Kubernetes probes: `/healthz` (live) and
 * `/readyz` (ready: initial models loaded and not draining). KServe's `/v2/health/*`
 * live with the v2 routes.
 */
export function registerHealthRoutes(app: FastifyInstance, core: InferenceCore): void {
  app.get('/healthz', async (_req, reply) => reply.code(core.live() ? 200 : 503).send({ live: core.live() }));
  app.get('/readyz', async (_req, reply) =>
    reply.code(core.ready() ? 200 : 503).send({ ready: core.ready() }),
  );
}
