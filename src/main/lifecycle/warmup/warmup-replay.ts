import { ServingError } from '../../../core/errors.js';
import { DEFAULT_SIGNATURE_NAME, type Signature } from '../../../core/signature.js';
import type { TensorMap } from '../../../core/tensor.js';
import { decodeTensorProto } from '../../codecs/tensor-proto.js';
import { selectOutputs, validateInputs } from '../../serving/input-validation.js';
import type { LogKind, PredictionLogRecord, PredictRequestObject } from './prediction-log.js';

/**
 * The batch scheduler as warmup uses it: the same queue and workers that serve requests,
 * addressed by the loading version's key. `deadline` is on `clock`'s scale.
 */
export interface WarmupQueue {
  readonly clock: { now(): number };
  enqueue(
    key: string,
    req: { inputs: TensorMap; outputNames: readonly string[]; deadline?: number },
  ): Promise<unknown>;
}

/** The version a warmup runs against (registered with the scheduler, not yet AVAILABLE). */
export interface ReplayTarget {
  /** The model's name, for messages. */
  readonly model: string;
  readonly key: string;
  readonly signature: Signature;
  readonly maxTensorElements: number;
  /** On the queue's clock; undefined = none. */
  readonly deadline: number | undefined;
}

/** Replays one kind of log's request against the target; rejects with a ServingError. */
export type LogReplayer = (request: object | undefined, target: ReplayTarget) => Promise<void>;

/** Runs one set of inputs through the target's queue (the real batching and worker path). */
export async function runInputs(
  queue: WarmupQueue,
  target: ReplayTarget,
  inputs: TensorMap,
  outputFilter?: readonly string[],
): Promise<void> {
  validateInputs(target.model, target.signature, inputs, target.maxTensorElements);
  const outputNames = selectOutputs(target.model, target.signature, outputFilter);
  await queue.enqueue(target.key, { inputs, outputNames, deadline: target.deadline });
}

/** Replays a PredictLog's PredictRequest (its model_spec may be empty: the loading version). */
export function predictReplayer(queue: WarmupQueue): LogReplayer {
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
    await runInputs(queue, target, inputs, req.output_filter);
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
