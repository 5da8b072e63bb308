import path from 'node:path';
import protobuf from 'protobufjs';
import { ServingError } from '../../../core/errors.js';
import { findProtoDir } from '../../codecs/proto-dir.js';
import { PROTO_OBJECT_OPTIONS } from '../../codecs/proto-object-options.js';
import type { TensorProtoObject } from '../../codecs/tensor-proto.js';

/** The members of PredictionLog's `log_type` oneof (protocols.md §7). */
export const LOG_KINDS = [
  'classify_log',
  'regress_log',
  'multi_inference_log',
  'session_run_log',
  'predict_log',
  'predict_streamed_log',
] as const;

export type LogKind = (typeof LOG_KINDS)[number];

/** A PredictRequest as decoded (proto field names, int64 as strings, bytes as Buffers). */
export interface PredictRequestObject {
  model_spec?: { name?: string; signature_name?: string } | null;
  inputs?: Record<string, TensorProtoObject>;
  output_filter?: string[];
}

/**
 * One decoded warmup record: its kind and that kind's request message as a plain object
 * (the same shape @grpc/proto-loader gives the gRPC handlers), undefined when the log has
 * no request.
 */
export type PredictionLogRecord =
  | { readonly kind: 'predict_log'; readonly request: PredictRequestObject | undefined }
  | { readonly kind: Exclude<LogKind, 'predict_log'>; readonly request: Record<string, unknown> | undefined };

let cachedType: protobuf.Type | undefined;

const LOG_PROTO = 'tensorflow_serving/apis/prediction_log.proto';

/** tensorflow.serving.PredictionLog, loaded once from protos/. */
export function predictionLogType(): protobuf.Type {
  if (cachedType) return cachedType;
  const dir = findProtoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync(LOG_PROTO, { keepCase: true });
  cachedType = root.lookupType('tensorflow.serving.PredictionLog');
  return cachedType;
}

/**
 * Decodes one record's bytes as a PredictionLog. Malformed protobuf, or a log with no
 * `log_type`, throws ServingError INVALID_ARGUMENT (`where` names the file and record).
 */
export function decodePredictionLog(bytes: Uint8Array, where: string): PredictionLogRecord {
  const type = predictionLogType();
  let obj: Record<string, unknown>;
  try {
    obj = type.toObject(type.decode(bytes), PROTO_OBJECT_OPTIONS) as Record<string, unknown>;
  } catch (err) {
    throw new ServingError('INVALID_ARGUMENT', `${where}: not a PredictionLog (${(err as Error).message})`, {
      cause: err,
      permanent: true,
    });
  }
  const kind = obj.log_type as LogKind | undefined;
  if (kind === undefined || !LOG_KINDS.includes(kind)) {
    throw new ServingError('INVALID_ARGUMENT', `${where}: the PredictionLog holds no log (log_type unset)`, {
      permanent: true,
    });
  }
  const log = (obj[kind] ?? {}) as { request?: Record<string, unknown> };
  return { kind, request: log.request } as PredictionLogRecord;
}

/** Encodes a PredictionLog holding one predict_log with `request` (make-warmup, tests). */
export function encodePredictLog(request: PredictRequestObject): Uint8Array {
  const type = predictionLogType();
  return type.encode(type.fromObject({ predict_log: { request } })).finish();
}

/** Encodes any PredictionLog given as a plain object (tests: other kinds, odd logs). */
export function encodePredictionLog(log: Record<string, unknown>): Uint8Array {
  const type = predictionLogType();
  return type.encode(type.fromObject(log)).finish();
}
