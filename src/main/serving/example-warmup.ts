import { ServingError } from '../../core/errors.js';
import { DEFAULT_SIGNATURE_NAME, type Signature } from '../../core/signature.js';
import type { TensorMap } from '../../core/tensor.js';
import { decodeInputObject, type InputObject, mergeContext } from '../codecs/tf-example.js';
import type { ExampleMethod, ExampleSignature } from '../config/example-signatures.js';
import { methodOf, uniteSignatures } from './classify-regress.js';
import { classificationOf, outputsOf, regressionOf } from './example-results.js';
import { examplesToTensors } from './example-tensors.js';
import { selectOutputs, validateInputs } from './input-validation.js';

/**
 * Warmup replay of TF Serving's `classify_log`, `regress_log` and `multi_inference_log`
 * records (a PredictionLog's ClassificationRequest, RegressionRequest or
 * MultiInferenceRequest, decoded like the gRPC handlers' messages), against a version that
 * is loading: the request's model_spec may be empty, the signatures are the model's
 * declared ones, and the examples run through the scheduler queue like a client's.
 *
 * The shapes are the warmup runner's (lifecycle/warmup): a replayer takes the request and
 * the loading version and rejects with a ServingError when the record cannot run.
 */

/** The loading version a record replays against. */
export interface ExampleReplayTarget {
  /** The model's (internal) name: the signatures are looked up by it. */
  readonly model: string;
  /** Its scheduler key. */
  readonly key: string;
  readonly signature: Signature;
  readonly maxTensorElements: number;
  /** On the queue's clock; undefined = none. */
  readonly deadline: number | undefined;
}

/** The scheduler as warmup uses it. */
export interface ExampleWarmupQueue {
  enqueue(
    key: string,
    req: { inputs: TensorMap; outputNames: readonly string[]; deadline?: number },
  ): Promise<unknown>;
}

export type ExampleReplayer = (request: object | undefined, target: ExampleReplayTarget) => Promise<void>;

/** Declared signatures of a model by its internal name. */
export type DeclaredSignatures = (model: string) => Readonly<Record<string, ExampleSignature>> | undefined;

interface ExampleRequestObject {
  model_spec?: { signature_name?: string } | null;
  input?: InputObject | null;
}
interface MultiInferenceRequestObject {
  tasks?: { model_spec?: { signature_name?: string } | null; method_name?: string }[];
  input?: InputObject | null;
}

/** The replayers of the three tf.Example log kinds. */
export function exampleWarmupReplayers(
  queue: ExampleWarmupQueue,
  declared: DeclaredSignatures,
): Record<'classify_log' | 'regress_log' | 'multi_inference_log', ExampleReplayer> {
  const one =
    (method: ExampleMethod): ExampleReplayer =>
    async (request, target) => {
      const req = (request ?? {}) as ExampleRequestObject;
      const sig = declaredSignature(declared(target.model), req.model_spec?.signature_name, method);
      await replay(queue, target, [sig], req.input);
    };
  return {
    classify_log: one('classify'),
    regress_log: one('regress'),
    multi_inference_log: async (request, target) => {
      const req = (request ?? {}) as MultiInferenceRequestObject;
      const tasks = req.tasks ?? [];
      if (tasks.length === 0)
        throw new ServingError('INVALID_ARGUMENT', 'MultiInferenceRequest has no tasks');
      const seen = new Set<string>();
      const sigs = tasks.map((t, i) => {
        const sig = declaredSignature(
          declared(target.model),
          t.model_spec?.signature_name,
          methodOf(t.method_name ?? '', i),
        );
        if (seen.has(sig.name)) {
          throw new ServingError(
            'INVALID_ARGUMENT',
            `MultiInference names signature '${sig.name}' more than once`,
          );
        }
        seen.add(sig.name);
        return sig;
      });
      await replay(queue, target, sigs, req.input);
    },
  };
}

function declaredSignature(
  sigs: Readonly<Record<string, ExampleSignature>> | undefined,
  name: string | undefined,
  method: ExampleMethod,
): ExampleSignature {
  const signatureName = name || DEFAULT_SIGNATURE_NAME;
  const sig = sigs?.[signatureName];
  if (sig === undefined) {
    const known = Object.keys(sigs ?? {}).join(', ') || 'none';
    throw new ServingError(
      'INVALID_ARGUMENT',
      `Signature '${signatureName}' is not a declared ${method} signature (declared: ${known})`,
    );
  }
  if (sig.method !== method) {
    throw new ServingError(
      'INVALID_ARGUMENT',
      `Signature '${sig.name}' is a ${sig.method} signature, not ${method}`,
    );
  }
  return sig;
}

async function replay(
  queue: ExampleWarmupQueue,
  target: ExampleReplayTarget,
  sigs: readonly ExampleSignature[],
  input: InputObject | null | undefined,
): Promise<void> {
  const examples = mergeContext(decodeInputObject(input));
  const inputs = examplesToTensors(examples, uniteSignatures(sigs), target.signature);
  validateInputs(target.model, target.signature, inputs, target.maxTensorElements);
  const outputNames = selectOutputs(target.model, target.signature, [...new Set(sigs.flatMap(outputsOf))]);
  const result = (await queue.enqueue(target.key, { inputs, outputNames, deadline: target.deadline })) as
    | { outputs?: TensorMap }
    | undefined;
  // The answer must read as the signatures say, or serving them would fail the same way.
  const outputs = result?.outputs;
  if (outputs === undefined) return;
  for (const sig of sigs) {
    if (sig.method === 'classify') classificationOf(outputs, sig, examples.length);
    else regressionOf(outputs, sig, examples.length);
  }
}
