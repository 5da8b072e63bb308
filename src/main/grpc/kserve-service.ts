import type * as grpc from '@grpc/grpc-js';
import { ServingError } from '../../core/errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import { decodeInferInputs, encodeInferOutputs, type InferInputTensorObject } from '../codecs/kserve-grpc.js';
import { kserveModelMetadata } from '../codecs/kserve-metadata.js';
import type { InferenceCore } from '../serving/inference-core.js';
import { type HandlerEnv, unary } from './grpc-call.js';
import type { GrpcCodecOptions } from './tf-prediction-service.js';

/** What ServerMetadata reports. */
export interface ServerInfo {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

interface ModelInferRequestObject {
  model_name?: string;
  model_version?: string;
  id?: string;
  inputs?: InferInputTensorObject[];
  outputs?: { name?: string }[];
  raw_input_contents?: Uint8Array[];
}

const LATEST: VersionSelector = Object.freeze({ kind: 'latest' });

/** KServe's version string: empty = latest; otherwise a non-negative integer. */
export function kserveSelector(version: string | undefined): VersionSelector {
  if (!version) return LATEST;
  if (!/^\d{1,15}$/.test(version))
    throw new ServingError('INVALID_ARGUMENT', `Invalid model version: '${version}'`);
  return { kind: 'version', version: Number(version) };
}

function modelNameOf(name: string | undefined): string {
  if (!name) throw new ServingError('INVALID_ARGUMENT', 'Missing model name in request');
  return name;
}

/** Handlers of `inference.GRPCInferenceService` (KServe v2). `serving()` is the front end's drain flag. */
export function kserveServiceHandlers(
  core: InferenceCore,
  env: HandlerEnv,
  codec: GrpcCodecOptions,
  info: ServerInfo,
  serving: () => boolean,
): grpc.UntypedServiceImplementation {
  const decodeOpts = { maxElements: codec.maxTensorElements };
  // Probes and server metadata stay open when tenancy is on, like the REST health routes.
  const open = { ...env, authenticate: undefined };
  return {
    ServerLive: unary('ServerLive', open, () => ({ live: core.live() })),
    ServerReady: unary('ServerReady', open, () => ({ ready: serving() && core.ready() })),
    ModelReady: unary<{ name?: string; version?: string }, unknown>('ModelReady', env, (req, ctx) => ({
      ready: core.modelReady(modelNameOf(req.name), kserveSelector(req.version), ctx.caller),
    })),
    ServerMetadata: unary('ServerMetadata', open, () => ({
      name: info.name,
      version: info.version,
      extensions: [...info.extensions],
    })),
    ModelMetadata: unary<{ name?: string; version?: string }, unknown>('ModelMetadata', env, (req, ctx) => {
      const meta = core.modelMetadata(modelNameOf(req.name), kserveSelector(req.version), ctx.caller);
      // int64 shape dims: proto-loader encodes numbers as well as strings.
      return kserveModelMetadata(meta);
    }),
    ModelInfer: unary<ModelInferRequestObject, unknown>('ModelInfer', env, async (req, ctx) => {
      const model = modelNameOf(req.model_name);
      const selector = kserveSelector(req.model_version);
      const inputs = decodeInferInputs(req.inputs ?? [], req.raw_input_contents, decodeOpts);
      const requested = (req.outputs ?? []).map((o) => o.name ?? '');
      const result = await core.predict({
        model,
        selector,
        inputs,
        outputFilter: requested.length > 0 ? requested : undefined,
        deadline: ctx.deadline,
        signal: ctx.signal,
        caller: ctx.caller,
        entrypoint: 'GRPC',
        api: 'infer',
      });
      const names =
        requested.length > 0
          ? requested.filter((n) => Object.hasOwn(result.outputs, n))
          : Object.keys(result.outputs);
      const encoded = encodeInferOutputs(result.outputs, names, codec.typedOutputs);
      return {
        model_name: result.model,
        model_version: String(result.version),
        id: req.id ?? '',
        outputs: encoded.outputs,
        raw_output_contents: encoded.raw_output_contents,
      };
    }),
  };
}
