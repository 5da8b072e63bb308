import type { Signature } from '../../../core/signature.js';
import type { TensorMap } from '../../../core/tensor.js';
import { readJsonBody } from '../../codecs/json-body.js';
import { encodeTensorProto, type TensorProtoObject } from '../../codecs/tensor-proto.js';
import { decodePredictRequest, hasIntegerInputs } from '../../codecs/tfs-predict-request.js';
import type { WarmupData } from '../../config/warmup-options.js';
import { encodePredictLog } from './prediction-log.js';
import { encodeTfRecords } from './tfrecord.js';
import { generateInputs } from './warmup-inputs.js';

/** Limits for sample request files (generous: they are the operator's own files). */
const SAMPLE_LIMITS = { maxDepth: 64, maxElements: 64 * 1024 * 1024 };

/** One PredictLog record holding a PredictRequest with `inputs` (empty model_spec: any version). */
export function predictRecord(inputs: TensorMap): Uint8Array {
  const protos: Record<string, TensorProtoObject> = {};
  for (const [name, t] of Object.entries(inputs)) protos[name] = encodeTensorProto(t);
  return encodePredictLog({ inputs: protos });
}

/** Records from the signature: `count` per batch size, generated data. */
export function recordsFromSignature(
  signature: Signature,
  opts: {
    batchSizes: readonly number[];
    data: WarmupData;
    count: number;
    dims: Readonly<Record<string, readonly number[]>>;
  },
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const batchSize of signature.batched ? opts.batchSizes : [1]) {
    const where = `make-warmup (batch size ${batchSize})`;
    for (let k = 0; k < opts.count; k++) {
      out.push(
        predictRecord(generateInputs({ signature, batchSize, data: opts.data, dims: opts.dims, where })),
      );
    }
  }
  return out;
}

/**
 * A record from a sample request: TF Serving REST predict JSON (`{"instances": ...}` or
 * `{"inputs": ...}`), decoded against the signature exactly as the REST front end does.
 */
export function recordFromSampleJson(signature: Signature, text: string): Uint8Array {
  const body = readJsonBody(text, { maxDepth: SAMPLE_LIMITS.maxDepth });
  const value = hasIntegerInputs(signature) ? body.exact() : body.value;
  const decoded = decodePredictRequest(value, signature, { maxElements: SAMPLE_LIMITS.maxElements });
  return predictRecord(decoded.inputs);
}

/** The file's bytes: records framed as TFRecord. */
export function warmupFileBytes(records: readonly Uint8Array[]): Buffer {
  return encodeTfRecords(records);
}
