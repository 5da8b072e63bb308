import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallerIdentity } from '../../core/caller-identity.js';
import type { ArrivalPass } from '../tenancy/admission.js';
import { KSERVE_INFER_ROUTES } from './kserve-routes.js';
import { noteArrival, sendError } from './rest-context.js';
import { TFS_INFERENCE_PATH, TFS_ROUTE } from './tfserving-routes.js';

export interface ArrivalAdmissionOptions {
  /** Establishes the caller from the headers; throws ServingError UNAUTHENTICATED. */
  readonly authenticate: (headers: IncomingHttpHeaders) => CallerIdentity | undefined;
  /** The tenant's admission on arrival (`AdmissionController.arrive`); throws ServingError. */
  readonly arrive: (tenant: string | undefined) => ArrivalPass;
}

const KSERVE_INFER = new Set<string>(KSERVE_INFER_ROUTES);

/**
 * Whether a routed request is an inference call: `POST /v1/models/...:predict|classify|regress`
 * or `POST /v2/models/.../infer`. Other routes authenticate in their handlers as before.
 */
export function isInferenceRequest(request: FastifyRequest): boolean {
  if (request.method !== 'POST') return false;
  const route = request.routeOptions.url;
  if (route === undefined) return false;
  if (KSERVE_INFER.has(route)) return true;
  return route === TFS_ROUTE && TFS_INFERENCE_PATH.test(request.url.split('?', 1)[0]);
}

/**
 * Registers the onRequest hook that admits inference requests before fastify reads their
 * body: it authenticates the caller and takes its tenant's admission on arrival (queue quota,
 * rate token). A refused request is answered at once (401, 429 with Retry-After) with the
 * same status and message the handler would have given; its body is never parsed (Node
 * discards the unread bytes, so a keep-alive connection serves the next request). An admitted
 * request carries the decision (`noteArrival`) to its handler, which passes it to the core so
 * no second token is taken. Register it after any hook the credentials depend on
 * (`notePeerCertificate`), and only when tenancy is on.
 */
export function registerArrivalAdmission(app: FastifyInstance, opts: ArrivalAdmissionOptions): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!isInferenceRequest(request)) return done();
    try {
      const caller = opts.authenticate(request.headers);
      noteArrival(request, { caller, pass: opts.arrive(caller?.tenant) });
    } catch (err) {
      // Answered here: fastify reads no body and calls no handler.
      sendError(reply, err);
      return;
    }
    done();
  });
}
