import type * as grpc from '@grpc/grpc-js';
import { ServingError } from '../../core/errors.js';
import type { TensorMap } from '../../core/tensor.js';
import { decodeTensorProto, encodeTensorProto, type TensorProtoObject } from '../codecs/tensor-proto.js';
import type { ExampleInference } from '../serving/classify-regress.js';
import type { InferenceCore } from '../serving/inference-core.js';
import { type HandlerEnv, unary } from './grpc-call.js';
import { type ModelSpecObject, modelNameOf, responseModelSpec, selectorOf } from './model-spec.js';
import { signatureDefAny } from './signature-def.js';
import { exampleServiceHandlers } from './tf-example-service.js';

interface PredictRequestObject {
  model_spec?: ModelSpecObject | null;
  inputs?: Record<string, TensorProtoObject>;
  output_filter?: string[];
}

interface GetModelMetadataRequestObject {
  model_spec?: ModelSpecObject | null;
  metadata_field?: string[];
}

/** Codec settings shared by the gRPC front end's handlers. */
export interface GrpcCodecOptions {
  /** Largest element count of one request tensor. */
  readonly maxTensorElements: number;
  /** Answer with typed value lists instead of raw bytes (`tensor_content`, `raw_output_contents`). */
  readonly typedOutputs: boolean;
}

const LATEST = Object.freeze({ kind: 'latest' as const });

/** Handlers of `tensorflow.serving.PredictionService`; they only decode, call `core`, encode. */
export function predictionServiceHandlers(
  core: InferenceCore,
  env: HandlerEnv,
  codec: GrpcCodecOptions,
  examples?: ExampleInference,
): grpc.UntypedServiceImplementation {
  const decodeOpts = { maxElements: codec.maxTensorElements };
  const encodeOpts = { typedValues: codec.typedOutputs };
  return {
    Predict: unary<PredictRequestObject, unknown>('Predict', env, async (req, ctx) => {
      const spec = req.model_spec;
      const model = modelNameOf(spec);
      const inputs: TensorMap = {};
      for (const [name, proto] of Object.entries(req.inputs ?? {})) {
        inputs[name] = decodeTensorProto(name, proto, decodeOpts);
      }
      const result = await core.predict({
        model,
        selector: selectorOf(spec) ?? LATEST,
        signatureName: spec?.signature_name || undefined,
        inputs,
        outputFilter: req.output_filter,
        deadline: ctx.deadline,
        signal: ctx.signal,
        caller: ctx.caller,
        entrypoint: 'GRPC',
        api: 'predict',
      });
      const outputs: Record<string, TensorProtoObject> = {};
      for (const [name, t] of Object.entries(result.outputs))
        outputs[name] = encodeTensorProto(t, encodeOpts);
      return { model_spec: responseModelSpec(result.model, result.version, result.signatureName), outputs };
    }),
    GetModelMetadata: unary<GetModelMetadataRequestObject, unknown>('GetModelMetadata', env, (req, ctx) => {
      const model = modelNameOf(req.model_spec);
      const fields = req.metadata_field ?? [];
      if (fields.length === 0) {
        throw new ServingError(
          'INVALID_ARGUMENT',
          'GetModelMetadataRequest must specify at least one metadata_field',
        );
      }
      for (const f of fields) {
        if (f !== 'signature_def')
          throw new ServingError('INVALID_ARGUMENT', `Metadata field ${f} is not supported`);
      }
      const meta = core.modelMetadata(model, selectorOf(req.model_spec) ?? LATEST, ctx.caller);
      return {
        model_spec: responseModelSpec(meta.model, meta.version, req.model_spec?.signature_name ?? ''),
        metadata: { signature_def: signatureDefAny(meta) },
      };
    }),
    ...exampleServiceHandlers(examples, env),
  };
}
