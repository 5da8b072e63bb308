import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallerIdentity } from '../../core/caller-identity.js';
import { ServingError } from '../../core/errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import { parseJsonBody } from '../codecs/json-body.js';
import {
  decodeExampleRequestJson,
  encodeClassifyJson,
  encodeRegressJson,
} from '../codecs/tfs-example-json.js';
import type { ExampleInference } from '../serving/classify-regress.js';
import { callContext } from './rest-context.js';
import type { RestOptions } from './rest-options.js';

/** Where a TF Serving `:classify` / `:regress` call goes; absent when the server has none. */
export interface ExampleRoutesOptions {
  readonly examples?: ExampleInference;
}

/**
 * Answers `POST /v1/models/<m>[/versions/<v>|/labels/<l>]:classify` and `:regress`
 * (called by tfserving-routes.ts once the path matched). The body is read with exact
 * numbers, so integer features keep their source text. Throws ServingError; the caller
 * writes it.
 */
export async function answerExampleCall(
  method: 'classify' | 'regress',
  request: FastifyRequest,
  reply: FastifyReply,
  target: { model: string; selector: VersionSelector; caller: CallerIdentity | undefined },
  opts: RestOptions & ExampleRoutesOptions,
): Promise<FastifyReply> {
  const examples = opts.examples;
  if (examples === undefined) {
    throw new ServingError('UNIMPLEMENTED', `The :${method} API is not enabled on this server`);
  }
  const ctx = callContext(request, reply, opts.defaultRequestTimeoutMs, target.caller);
  const body = request.body;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  const parsed = parseJsonBody(text, { maxDepth: opts.limits.maxJsonDepth }, { exactNumbers: true });
  const req = decodeExampleRequestJson(parsed);
  const call = {
    model: target.model,
    selector: target.selector,
    signatureName: req.signatureName,
    input: req.input,
    deadline: ctx.deadline,
    signal: ctx.signal,
    caller: target.caller,
    arrival: ctx.arrival,
    entrypoint: 'REST',
  };
  const json =
    method === 'classify'
      ? encodeClassifyJson((await examples.classify(call)).classifications)
      : encodeRegressJson((await examples.regress(call)).regressions);
  return reply.type('application/json').send(json);
}
