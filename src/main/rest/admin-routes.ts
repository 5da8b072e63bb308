import type { FastifyInstance } from 'fastify';
import type { TenancyReport } from '../tenancy/tenancy-report.js';
import { requireAdmin, sendError } from './rest-context.js';
import type { RestOptions } from './rest-options.js';

export interface AdminRouteOptions extends Pick<RestOptions, 'authenticate'> {
  /** The tenancy report of `GET /admin/tenants` (tenancyReport over the server's registry), built per call. */
  readonly tenancyReport: () => TenancyReport;
}

/**
 * `GET /admin/tenants`: every tenant's quotas and usage and the memory of every device and
 * loaded version, as JSON. With tenancy on only an admin caller may read it (PERMISSION_DENIED
 * otherwise, UNAUTHENTICATED without valid credentials); with tenancy off anyone may.
 */
export function registerAdminRoutes(app: FastifyInstance, opts: AdminRouteOptions): void {
  app.get('/admin/tenants', async (request, reply) => {
    try {
      requireAdmin(opts.authenticate(request.headers));
      return reply.type('application/json').send(JSON.stringify(opts.tenancyReport()));
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
