import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServingError } from '../../core/errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import { type JsonBody, readJsonBody } from '../codecs/json-body.js';
import { decodeFastPredict, parseFastPredictBody } from '../codecs/tfs-fast-predict.js';
import { decodePredictRequest } from '../codecs/tfs-predict-request.js';
import { encodePredictResponse } from '../codecs/tfs-predict-response.js';
import { encodeMetadataJson, encodeStatusJson } from '../codecs/tfs-status-json.js';
import type { InferenceCore } from '../serving/inference-core.js';
import { callContext, callerOf, sendError } from './rest-context.js';
import type { RestOptions } from './rest-options.js';
import { answerExampleCall, type ExampleRoutesOptions } from './tfs-example-routes.js';

// TF Serving's URL grammar: name [^/:]+, version digits, label [^/:]+.
const GET_RE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(\/metadata)?$/;
const POST_RE =
  /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?:(predict|classify|regress)$/;
/** Paths of the inference calls (POST), for the arrival hook. */
export const TFS_INFERENCE_PATH: RegExp = POST_RE;
/** The route every `/v1/...` path below the root goes to. */
export const TFS_ROUTE = '/v1/*';

function selectorOf(version: string | undefined, label: string | undefined): VersionSelector {
  if (version !== undefined) {
    const v = Number(version);
    if (!Number.isSafeInteger(v))
      throw new ServingError('INVALID_ARGUMENT', `Version ${version} is out of range`);
    return { kind: 'version', version: v };
  }
  if (label !== undefined) return { kind: 'label', label: decodeURIComponent(label) };
  return { kind: 'latest' };
}

function malformed(request: FastifyRequest): ServingError {
  return new ServingError('INVALID_ARGUMENT', `Malformed request: ${request.method} ${request.url}`);
}

function bodyText(request: FastifyRequest): string {
  const body = request.body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return typeof body === 'string' ? body : '';
}

/** Registers TF Serving's REST API (`/v1/...`) on the app. */
export function registerTfServingRoutes(
  app: FastifyInstance,
  core: InferenceCore,
  opts: RestOptions & ExampleRoutesOptions,
): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const path = request.url.split('?', 1)[0];
      if (path === '/v1/models' || path === '/v1/models/') {
        throw new ServingError('INVALID_ARGUMENT', 'Missing model name in request.');
      }
      const caller = callerOf(request, opts.authenticate);
      if (request.method === 'GET') {
        const m = GET_RE.exec(path);
        if (!m) throw malformed(request);
        const name = decodeURIComponent(m[1]);
        if (m[4]) {
          const selector = selectorOf(m[2], m[3]);
          const meta = core.modelMetadata(name, selector, caller);
          return reply.type('application/json').send(encodeMetadataJson(meta));
        }
        const selector = m[2] === undefined && m[3] === undefined ? undefined : selectorOf(m[2], m[3]);
        return reply
          .type('application/json')
          .send(encodeStatusJson(core.modelStatus(name, selector, caller)));
      }
      const m = request.method === 'POST' ? POST_RE.exec(path) : null;
      if (!m) throw malformed(request);
      const name = decodeURIComponent(m[1]);
      const selector = selectorOf(m[2], m[3]);
      if (m[4] === 'classify' || m[4] === 'regress') {
        return await answerExampleCall(m[4], request, reply, { model: name, selector, caller }, opts);
      }
      const ctx = callContext(request, reply, opts.defaultRequestTimeoutMs, caller, opts.maxDeadlineMs);
      const maxDepth = opts.limits.maxJsonDepth;
      // A plain numeric body skips JSON.parse (tfs-fast-predict.ts); anything else, and any
      // body whose tensor the fast path declines, takes the general path below.
      const fast = Buffer.isBuffer(request.body) ? parseFastPredictBody(request.body, maxDepth) : undefined;
      let parsed: JsonBody | undefined;
      const general = (): JsonBody => {
        parsed ??= readJsonBody(bodyText(request), { maxDepth });
        return parsed;
      };
      let format: 'row' | 'columnar' = fast?.format ?? 'row';
      let signatureName: string | undefined = fast?.signatureName;
      const body = fast === undefined ? general().value : undefined;
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
        const s = (body as Record<string, unknown>).signature_name;
        if (s !== undefined && typeof s !== 'string') {
          throw new ServingError('INVALID_ARGUMENT', "'signature_name' must be a string");
        }
        signatureName = s;
      }
      const result = await core.predict({
        model: name,
        selector,
        signatureName,
        inputs: (signature, plan) => {
          if (fast !== undefined) {
            const decoded = decodeFastPredict(fast, signature, opts.limits.maxTensorElements);
            if (decoded !== undefined) return decoded;
          }
          const p = general();
          // Integer inputs need the source text of numbers: `1.0` is rejected, int64 exact.
          const input = plan.exactJsonNumbers ? p.exact() : p.value;
          const decoded = decodePredictRequest(input, signature, {
            maxElements: opts.limits.maxTensorElements,
            signatureName,
          });
          format = decoded.format;
          return decoded.inputs;
        },
        deadline: ctx.deadline,
        signal: ctx.signal,
        caller,
        arrival: ctx.arrival,
        entrypoint: 'REST',
        api: 'predict',
      });
      const order = Object.keys(result.outputs);
      return reply.type('application/json').send(encodePredictResponse(result.outputs, format, order));
    } catch (err) {
      return sendError(reply, err);
    }
  };
  app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/v1', handler });
  app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: TFS_ROUTE, handler });
}
