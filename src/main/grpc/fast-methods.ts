import type * as grpc from '@grpc/grpc-js';
import {
  decodeModelInferRequest,
  decodePredictRequest,
  encodeModelInferResponse,
  encodePredictResponse,
  type ModelInferResponseObject,
  type PredictResponseObject,
} from '../codecs/grpc-fast-codec.js';

type MethodDef = grpc.MethodDefinition<unknown, unknown>;

interface FastCodec {
  readonly decode: (buf: Buffer) => unknown;
  readonly encode: (res: never) => Buffer | undefined;
}

/** The hot methods and their hand-written codecs (grpc-fast-codec.ts), by service and method. */
const FAST: Record<string, Record<string, FastCodec>> = {
  'tensorflow.serving.PredictionService': {
    Predict: {
      decode: decodePredictRequest,
      encode: (res: PredictResponseObject) => encodePredictResponse(res),
    },
  },
  'inference.GRPCInferenceService': {
    ModelInfer: {
      decode: decodeModelInferRequest,
      encode: (res: ModelInferResponseObject) => encodeModelInferResponse(res),
    },
  },
};

/**
 * A service definition whose hot methods (TF Serving Predict, KServe ModelInfer) decode and
 * encode with the hand-written codecs, falling back per message to proto-loader's codec for
 * anything outside their common shape. Other services are returned as they are.
 */
export function withFastCodecs(fullName: string, def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const fast = FAST[fullName];
  if (fast === undefined) return def;
  const out: Record<string, MethodDef> = { ...(def as Record<string, MethodDef>) };
  for (const [method, codec] of Object.entries(fast)) {
    const m = out[method];
    if (m === undefined) continue;
    const slowDecode = m.requestDeserialize;
    const slowEncode = m.responseSerialize;
    out[method] = {
      ...m,
      requestDeserialize: (buf: Buffer) => codec.decode(buf) ?? slowDecode(buf),
      responseSerialize: (res: unknown) => codec.encode(res as never) ?? slowEncode(res),
    };
  }
  return out as grpc.ServiceDefinition;
}
