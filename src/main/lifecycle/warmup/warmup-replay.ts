import { ServingError } from '../../../core/errors.js';
import { selectOutputs, validateInputs } from '../../../core/input-validation.js';
import type { Platform } from '../../../core/platform.js';
import { DEFAULT_SIGNATURE_NAME, type Signature } from '../../../core/signature.js';
import type { TensorMap } from '../../../core/tensor.js';
import { decodeTensorProto } from '../../codecs/tensor-proto.js';
import type { ExampleSignature } from '../../config/example-signatures.js';
import type { LogKind, PredictionLogRecord, PredictRequestObject } from './prediction-log.js';

/** The version a warmup runs against (registered with the scheduler, not yet AVAILABLE). */
export interface ReplayTarget {
  /** The model's (manager's) name, for messages. */
  readonly model: string;
  readonly version: number;
  readonly platform: Platform;
  /** Its scheduler key. */
  readonly key: string;
  readonly signature: Signature;
  /** The model's declared tf.Example signatures (Classify/Regress), if any. */
  readonly exampleSignatures: Readonly<Record<string, ExampleSignature>> | undefined;
  readonly maxTensorElements: number;
  /** On the scheduler's clock; undefined = none. */
  readonly deadline: number | undefined;
}

/**
 * Runs one request's tensors for the target through the real inference path (validation
 * against the signature, the batch scheduler, the device pool) and resolves with the
 * outputs; rejects with a ServingError. Provided by the serving layer (serving/warmup-path.ts).
 */
export type InputsRunner = (
  target: ReplayTarget,
  inputs: TensorMap,
  outputFilter?: readonly string[],
) => Promise<TensorMap>;

/** Replays one kind of log's request (decoded plain object) against the target. */
export type LogReplayer = (request: object | undefined, target: ReplayTarget) => Promise<void>;

/** Replays a PredictLog's PredictRequest (its model_spec may be empty: the loading version). */
export function predictReplayer(run: InputsRunner): LogReplayer {
  return async (request, target) => {
    const req = (request ?? {}) as PredictRequestObject;
    const signatureName = req.model_spec?.signature_name || DEFAULT_SIGNATURE_NAME;
    if (signatureName !== DEFAULT_SIGNATURE_NAME) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `signature "${signatureName}" not found (available: ${DEFAULT_SIGNATURE_NAME})`,
      );
    }
    const inputs: TensorMap = {};
    for (const [name, proto] of Object.entries(req.inputs ?? {})) {
      inputs[name] = decodeTensorProto(name, proto, { maxElements: target.maxTensorElements });
    }
    await run(target, inputs, req.output_filter);
  };
}

/**
 * Replays one decoded record through the replayer of its kind. A kind without a replayer
 * fails with UNIMPLEMENTED "warmup log kind X not supported".
 */
export async function replayRecord(
  record: PredictionLogRecord,
  target: ReplayTarget,
  replayers: Partial<Record<LogKind, LogReplayer>>,
): Promise<void> {
  const replay = replayers[record.kind];
  if (replay === undefined) {
    throw new ServingError('UNIMPLEMENTED', `warmup log kind ${record.kind} not supported`, {
      permanent: true,
    });
  }
  await replay(record.request, target);
}
