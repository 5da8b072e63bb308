import { selectOutputs, validateInputs } from '../../core/input-validation.js';
import { DEFAULT_SIGNATURE_NAME } from '../../core/signature.js';
import type { TensorMap } from '../../core/tensor.js';
import {
  decodeInputObject,
  type ExampleRequestObject,
  type MultiInferenceRequestObject,
} from '../codecs/tf-example.js';
import { servingPlan } from '../lifecycle/serving-plan.js';
import type { LogKind } from '../lifecycle/warmup/prediction-log.js';
import type { InputsRunner, LogReplayer, ReplayTarget } from '../lifecycle/warmup/warmup-replay.js';
import { ExampleInference } from './classify-regress.js';
import type { InferenceCore } from './inference-core.js';

/**
 * The batch scheduler as warmup uses it: the same queue and workers that serve requests,
 * addressed by the loading version's key. `deadline` is on `clock`'s scale.
 */
export interface WarmupQueue {
  readonly clock: { now(): number };
  enqueue(
    key: string,
    req: { inputs: TensorMap; outputNames: readonly string[]; deadline?: number },
  ): Promise<{ outputs: TensorMap }>;
}

/**
 * Warmup's inference path: the checks a Predict gets (inputs against the version's
 * signature, element limits, output filter), then the version's scheduler queue.
 */
export function warmupInputsRunner(queue: WarmupQueue): InputsRunner {
  return async (target, inputs, outputFilter) => {
    validateInputs(target.model, target.signature, inputs, target.maxTensorElements);
    const outputNames = selectOutputs(target.model, target.signature, outputFilter);
    const result = await queue.enqueue(target.key, { inputs, outputNames, deadline: target.deadline });
    return result.outputs;
  };
}

/**
 * Replayers for classify_log, regress_log and multi_inference_log: each request runs through
 * ExampleInference (the code the Classify/Regress/MultiInference APIs use: the model's
 * declared tf.Example signatures, context merge, feature → tensor feeding, reading the answer),
 * on a core that reaches only the loading version, through `run`.
 */
export function exampleReplayers(run: InputsRunner): Partial<Record<LogKind, LogReplayer>> {
  const inference = (target: ReplayTarget) =>
    new ExampleInference(versionCore(target, run), () => target.exampleSignatures);
  const latest = { kind: 'latest' } as const;
  /** A logged ClassificationRequest or RegressionRequest as the call on the loading version. */
  const exampleCall = (request: unknown, target: ReplayTarget) => {
    const req = (request ?? {}) as ExampleRequestObject;
    return {
      model: target.model,
      selector: latest,
      signatureName: req.model_spec?.signature_name,
      input: decodeInputObject(req.input),
    };
  };
  return {
    classify_log: async (request, target) => {
      await inference(target).classify(exampleCall(request, target));
    },
    regress_log: async (request, target) => {
      await inference(target).regress(exampleCall(request, target));
    },
    multi_inference_log: async (request, target) => {
      const req = (request ?? {}) as MultiInferenceRequestObject;
      await inference(target).multiInference({
        tasks: (req.tasks ?? []).map((t) => ({
          model: target.model,
          selector: latest,
          signatureName: t.model_spec?.signature_name,
          methodName: t.method_name ?? '',
        })),
        input: decodeInputObject(req.input),
      });
    },
  };
}

/** The two core calls ExampleInference makes, answered by the loading version alone. */
function versionCore(
  target: ReplayTarget,
  run: InputsRunner,
): Pick<InferenceCore, 'predict' | 'modelMetadata'> {
  // Warmup runs before the version is AVAILABLE, so before its handles carry the plan.
  const plan = servingPlan(target.platform, target.signature);
  return {
    async predict(call) {
      const inputs = typeof call.inputs === 'function' ? call.inputs(target.signature, plan) : call.inputs;
      const outputs = await run(target, inputs, call.outputFilter);
      return { model: target.model, version: target.version, signatureName: DEFAULT_SIGNATURE_NAME, outputs };
    },
    modelMetadata() {
      return {
        model: target.model,
        version: target.version,
        platform: target.platform,
        signatureName: DEFAULT_SIGNATURE_NAME,
        signature: target.signature,
        availableVersions: [target.version],
      };
    },
  };
}
