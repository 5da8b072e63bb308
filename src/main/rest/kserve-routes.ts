import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallerIdentity } from '../../core/caller-identity.js';
import { ServingError } from '../../core/errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import { parseJsonBody } from '../codecs/json-body.js';
import {
  decodeInferBinaryRequest,
  encodeInferBinaryResponse,
  INFERENCE_HEADER_CONTENT_LENGTH,
  wantsBinaryOutput,
} from '../codecs/kserve-binary.js';
import { decodeInferRequest, type InferRequest } from '../codecs/kserve-json.js';
import { kserveModelMetadata } from '../codecs/kserve-metadata.js';
import type { ModelRepository } from '../lifecycle/model-repository.js';
import type { InferenceCore } from '../serving/inference-core.js';
import { callContext, callerOf, requireAdmin, sendError } from './rest-context.js';
import type { RestOptions } from './rest-options.js';

export interface KServeRouteOptions extends RestOptions {
  readonly serverVersion: string;
  /** The repository extension (index/load/unload); admin-only when tenancy is on. */
  readonly repository: ModelRepository | undefined;
  /**
   * The statistics extension: KServe/Triton `model_stats` for a model (and version) as
   * `caller` names it; the callback maps the name into the caller's namespace and reports
   * it back under the caller's name.
   */
  readonly stats:
    | ((model: string, version: number | undefined, caller: CallerIdentity | undefined) => unknown[])
    | undefined;
}

/** The `/infer` routes (POST), for the arrival hook. */
export const KSERVE_INFER_ROUTES = [
  '/v2/models/:model/infer',
  '/v2/models/:model/versions/:version/infer',
] as const;

type ModelParams = { model: string; version?: string };

function selectorOf(params: ModelParams): VersionSelector {
  if (params.version === undefined) return { kind: 'latest' };
  if (!/^\d+$/.test(params.version) || !Number.isSafeInteger(Number(params.version))) {
    throw new ServingError('INVALID_ARGUMENT', `Model version '${params.version}' is not a version number`);
  }
  return { kind: 'version', version: Number(params.version) };
}

/**
 * Registers the KServe v2 / Open Inference Protocol REST API: server and model metadata,
 * health, `/infer` with JSON tensors and the binary tensor extension, the repository
 * extension and model statistics.
 */
export function registerKServeRoutes(
  app: FastifyInstance,
  core: InferenceCore,
  opts: KServeRouteOptions,
): void {
  const wrap =
    <P>(fn: (request: FastifyRequest<{ Params: P }>, reply: FastifyReply) => unknown) =>
    async (request: FastifyRequest<{ Params: P }>, reply: FastifyReply) => {
      try {
        const out = await fn(request, reply);
        if (!reply.sent) return reply.type('application/json').send(JSON.stringify(out));
        return reply;
      } catch (err) {
        return sendError(reply, err);
      }
    };

  app.get(
    '/v2',
    wrap(() => ({
      name: 'tensorserve',
      version: opts.serverVersion,
      extensions: ['binary_tensor_data', 'model_repository', 'statistics'],
    })),
  );
  app.get(
    '/v2/health/live',
    wrap((_req, reply) => {
      reply.code(core.live() ? 200 : 503);
      return { live: core.live() };
    }),
  );
  app.get(
    '/v2/health/ready',
    wrap((_req, reply) => {
      reply.code(core.ready() ? 200 : 503);
      return { ready: core.ready() };
    }),
  );

  const metadata = wrap<ModelParams>((request) => {
    const caller = opts.authenticate(request.headers);
    return kserveModelMetadata(core.modelMetadata(request.params.model, selectorOf(request.params), caller));
  });
  app.get('/v2/models/:model', metadata);
  app.get('/v2/models/:model/versions/:version', metadata);

  const ready = wrap<ModelParams>((request, reply) => {
    const caller = opts.authenticate(request.headers);
    const isReady = core.modelReady(request.params.model, selectorOf(request.params), caller);
    reply.code(isReady ? 200 : 400);
    return { ready: isReady };
  });
  app.get('/v2/models/:model/ready', ready);
  app.get('/v2/models/:model/versions/:version/ready', ready);

  const limits = { maxDepth: opts.limits.maxJsonDepth, maxElements: opts.limits.maxTensorElements };
  const infer = wrap<ModelParams>(async (request, reply) => {
    const caller = callerOf(request, opts.authenticate);
    const ctx = callContext(request, reply, opts.defaultRequestTimeoutMs, caller, opts.maxDeadlineMs);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const headerLength = request.headers[INFERENCE_HEADER_CONTENT_LENGTH];
    const req: InferRequest =
      headerLength !== undefined
        ? decodeInferBinaryRequest(body, Array.isArray(headerLength) ? headerLength[0] : headerLength, limits)
        : decodeInferRequest(parseJsonBody(body.toString('utf8'), limits), limits);
    const result = await core.predict({
      model: request.params.model,
      selector: selectorOf(request.params),
      inputs: req.inputs,
      outputFilter: req.outputs?.map((o) => o.name),
      deadline: ctx.deadline,
      signal: ctx.signal,
      caller,
      arrival: ctx.arrival,
      entrypoint: 'REST',
      api: 'infer',
    });
    const order = req.outputs?.map((o) => o.name) ?? Object.keys(result.outputs);
    const resp = {
      modelName: result.model,
      modelVersion: String(result.version),
      id: req.id,
      outputs: order.map((name) => ({
        name,
        tensor: result.outputs[name],
        parameters: req.outputs?.find((o) => o.name === name)?.parameters,
      })),
    };
    const encoded = encodeInferBinaryResponse(resp, (name) => wantsBinaryOutput(req, name));
    if (encoded.headerLength === encoded.body.byteLength) {
      return reply.type('application/json').send(encoded.body);
    }
    return reply
      .type('application/octet-stream')
      .header(INFERENCE_HEADER_CONTENT_LENGTH, String(encoded.headerLength))
      .send(encoded.body);
  });
  for (const url of KSERVE_INFER_ROUTES) app.post(url, infer);

  const stats = wrap<ModelParams>((request) => {
    const caller = opts.authenticate(request.headers);
    if (!opts.stats) throw new ServingError('UNIMPLEMENTED', 'Statistics are not enabled');
    const selector = selectorOf(request.params);
    // Resolves visibility and existence exactly like metadata does.
    core.modelStatus(
      request.params.model,
      request.params.version === undefined ? undefined : selector,
      caller,
    );
    const version = selector.kind === 'version' ? selector.version : undefined;
    return { model_stats: opts.stats(request.params.model, version, caller) };
  });
  app.get('/v2/models/:model/stats', stats);
  app.get('/v2/models/:model/versions/:version/stats', stats);

  app.post(
    '/v2/repository/index',
    wrap((request) => {
      requireAdmin(opts.authenticate(request.headers));
      if (!opts.repository)
        throw new ServingError('UNIMPLEMENTED', 'The model repository extension is not enabled');
      return opts.repository.index();
    }),
  );
  app.post(
    '/v2/repository/models/:model/load',
    wrap<ModelParams>(async (request) => {
      requireAdmin(opts.authenticate(request.headers));
      if (!opts.repository)
        throw new ServingError('UNIMPLEMENTED', 'The model repository extension is not enabled');
      await opts.repository.load(request.params.model);
      return {};
    }),
  );
  app.post(
    '/v2/repository/models/:model/unload',
    wrap<ModelParams>(async (request) => {
      requireAdmin(opts.authenticate(request.headers));
      if (!opts.repository)
        throw new ServingError('UNIMPLEMENTED', 'The model repository extension is not enabled');
      await opts.repository.unload(request.params.model);
      return {};
    }),
  );
}
