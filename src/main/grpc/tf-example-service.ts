import type * as grpc from '@grpc/grpc-js';
import { ServingError } from '../../core/errors.js';
import {
  decodeInputObject,
  type ExampleRequestObject as ExampleRequest,
  type MultiInferenceRequestObject as MultiInferenceRequest,
} from '../codecs/tf-example.js';
import type { ClassScore } from '../codecs/tfs-example-json.js';
import type { ExampleInference, ExampleResultHeader } from '../serving/classify-regress.js';
import { type GrpcCallContext, type HandlerEnv, unary } from './grpc-call.js';
import { type ModelSpecObject, modelNameOf, responseModelSpec, selectorOf } from './model-spec.js';

type ExampleRequestObject = ExampleRequest<ModelSpecObject>;
type MultiInferenceRequestObject = MultiInferenceRequest<ModelSpecObject>;

const LATEST = Object.freeze({ kind: 'latest' as const });

function classificationResult(classifications: readonly (readonly ClassScore[])[]) {
  return { classifications: classifications.map((classes) => ({ classes })) };
}

function regressionResult(values: readonly number[]) {
  return { regressions: values.map((value) => ({ value })) };
}

function specOf(h: ExampleResultHeader): ModelSpecObject {
  return responseModelSpec(h.model, h.version, h.signatureName);
}

function exampleCall(req: ExampleRequestObject, ctx: GrpcCallContext) {
  const spec = req.model_spec;
  return {
    model: modelNameOf(spec),
    selector: selectorOf(spec) ?? LATEST,
    signatureName: spec?.signature_name || undefined,
    input: decodeInputObject(req.input),
    deadline: ctx.deadline,
    signal: ctx.signal,
    caller: ctx.caller,
    entrypoint: 'GRPC',
  };
}

/**
 * `Classify`, `Regress` and `MultiInference` of `tensorflow.serving.PredictionService`:
 * decode the tf.Example input, call `examples`, encode the results. UNIMPLEMENTED when the
 * server has no ExampleInference.
 */
export function exampleServiceHandlers(
  examples: ExampleInference | undefined,
  env: HandlerEnv,
): grpc.UntypedServiceImplementation {
  const need = (method: string): ExampleInference => {
    if (examples === undefined)
      throw new ServingError('UNIMPLEMENTED', `${method} is not enabled on this server`);
    return examples;
  };
  return {
    Classify: unary<ExampleRequestObject, unknown>('Classify', env, async (req, ctx) => {
      const r = await need('Classify').classify(exampleCall(req, ctx));
      return { model_spec: specOf(r), result: classificationResult(r.classifications) };
    }),
    Regress: unary<ExampleRequestObject, unknown>('Regress', env, async (req, ctx) => {
      const r = await need('Regress').regress(exampleCall(req, ctx));
      return { model_spec: specOf(r), result: regressionResult(r.regressions) };
    }),
    MultiInference: unary<MultiInferenceRequestObject, unknown>('MultiInference', env, async (req, ctx) => {
      const tasks = (req.tasks ?? []).map((t) => ({
        model: modelNameOf(t.model_spec),
        selector: selectorOf(t.model_spec) ?? LATEST,
        signatureName: t.model_spec?.signature_name || undefined,
        methodName: t.method_name ?? '',
      }));
      const results = await need('MultiInference').multiInference({
        tasks,
        input: decodeInputObject(req.input),
        deadline: ctx.deadline,
        signal: ctx.signal,
        caller: ctx.caller,
        entrypoint: 'GRPC',
      });
      return {
        results: results.map((r) =>
          r.method === 'classify'
            ? { model_spec: specOf(r), classification_result: classificationResult(r.classifications) }
            : { model_spec: specOf(r), regression_result: regressionResult(r.regressions) },
        ),
      };
    }),
  };
}
