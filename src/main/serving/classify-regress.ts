import type { CallerIdentity } from '../../core/caller-identity.js';
import type { CancelSignal } from '../../core/cancel-signal.js';
import { ServingError } from '../../core/errors.js';
import { DEFAULT_SIGNATURE_NAME } from '../../core/signature.js';
import type { VersionSelector } from '../../core/version-selector.js';
import { type ExampleInput, mergeContext } from '../codecs/tf-example.js';
import type { ClassScore } from '../codecs/tfs-example-json.js';
import {
  CLASSIFY_METHOD,
  type ExampleMethod,
  type ExampleSignature,
  methodNameOf,
  REGRESS_METHOD,
} from '../config/example-signatures.js';
import type { ArrivalPass } from '../tenancy/admission.js';
import { classificationOf, outputsOf, regressionOf } from './example-results.js';
import { examplesToTensors, type FeedPlan, feedPlanOf } from './example-tensors.js';
import type { InferenceCore } from './inference-core.js';

/** Declared signatures of a model as the caller names it; undefined when it has none. */
export type ExampleSignatureLookup = (
  model: string,
  caller: CallerIdentity | undefined,
) => Readonly<Record<string, ExampleSignature>> | undefined;

/** What every Classify / Regress call carries besides its method. */
export interface ExampleCall {
  readonly model: string;
  readonly selector: VersionSelector;
  /** Defaults to `serving_default` (which is a predict signature, so it is refused). */
  readonly signatureName?: string;
  readonly input: ExampleInput;
  /** Absolute deadline, ms since the epoch. */
  readonly deadline?: number;
  readonly signal?: CancelSignal;
  readonly caller?: CallerIdentity;
  readonly arrival?: ArrivalPass;
  /** `REST` | `GRPC`, for metrics. */
  readonly entrypoint?: string;
}

export interface ExampleResultHeader {
  readonly model: string;
  readonly version: number;
  readonly signatureName: string;
}
export interface ClassifyResult extends ExampleResultHeader {
  readonly classifications: ClassScore[][];
}
export interface RegressResult extends ExampleResultHeader {
  readonly regressions: number[];
}

/** One MultiInference task: a signature of the request's model and its method name. */
export interface InferenceTask {
  readonly model: string;
  readonly selector: VersionSelector;
  readonly signatureName?: string;
  readonly methodName: string;
}
export interface MultiInferenceCall extends Omit<ExampleCall, 'model' | 'selector' | 'signatureName'> {
  readonly tasks: readonly InferenceTask[];
}
export type InferenceResult =
  | (ClassifyResult & { readonly method: 'classify' })
  | (RegressResult & { readonly method: 'regress' });

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}

/**
 * TF Serving's Classify, Regress and MultiInference for models whose config declares
 * tf.Example signatures (config/example-signatures.ts). Each call merges the context into
 * the examples, builds the model's input tensors (one row per example) and runs ONE Predict
 * through `core` on the model's own signature, so it is admitted, batched and measured like
 * any Predict; then it reads the answer from the named outputs. Errors are ServingErrors:
 * INVALID_ARGUMENT naming the feature or signature for bad requests, NOT_FOUND for an
 * unknown model or version (from the core).
 */
export class ExampleInference {
  constructor(
    /** Only predict and modelMetadata are called (warmup passes a one-version core). */
    private readonly core: Pick<InferenceCore, 'predict' | 'modelMetadata'>,
    private readonly lookup: ExampleSignatureLookup,
  ) {}

  async classify(call: ExampleCall): Promise<ClassifyResult> {
    const sig = this.signature(call.model, call.selector, call.signatureName, call.caller, 'classify');
    const [header, outputs, n] = await this.run(call, [sig], 'classify');
    return { ...header, signatureName: sig.name, classifications: classificationOf(outputs, sig, n) };
  }

  async regress(call: ExampleCall): Promise<RegressResult> {
    const sig = this.signature(call.model, call.selector, call.signatureName, call.caller, 'regress');
    const [header, outputs, n] = await this.run(call, [sig], 'regress');
    return { ...header, signatureName: sig.name, regressions: regressionOf(outputs, sig, n) };
  }

  /** All tasks run in one Predict on one version: their inputs and outputs are united. */
  async multiInference(call: MultiInferenceCall): Promise<InferenceResult[]> {
    const first = call.tasks[0];
    if (first === undefined) throw invalid('MultiInferenceRequest has no tasks');
    const seen = new Set<string>();
    const sigs = call.tasks.map((t, i) => {
      if (t.model !== first.model) {
        throw invalid(
          `MultiInference tasks must all name the same model: task 0 names '${first.model}', task ${i} '${t.model}'`,
        );
      }
      if (JSON.stringify(t.selector) !== JSON.stringify(first.selector)) {
        throw invalid(
          `MultiInference tasks must all name the same version or label (task ${i} differs from task 0)`,
        );
      }
      const method = methodOf(t.methodName, i);
      const sig = this.signature(t.model, t.selector, t.signatureName, call.caller, method);
      if (seen.has(sig.name)) throw invalid(`MultiInference names signature '${sig.name}' more than once`);
      seen.add(sig.name);
      return sig;
    });
    const [header, outputs, n] = await this.run(
      { ...call, model: first.model, selector: first.selector },
      sigs,
      'multi_inference',
    );
    return sigs.map((sig) =>
      sig.method === 'classify'
        ? {
            ...header,
            signatureName: sig.name,
            method: 'classify',
            classifications: classificationOf(outputs, sig, n),
          }
        : {
            ...header,
            signatureName: sig.name,
            method: 'regress',
            regressions: regressionOf(outputs, sig, n),
          },
    );
  }

  /** The named declared signature, checked against the method the caller asked for. */
  private signature(
    model: string,
    selector: VersionSelector,
    name: string | undefined,
    caller: CallerIdentity | undefined,
    method: ExampleMethod,
  ): ExampleSignature {
    const signatureName = name || DEFAULT_SIGNATURE_NAME;
    const declared = this.lookup(model, caller) ?? {};
    const sig = declared[signatureName];
    const wanted = methodNameOf(method);
    const api = method === 'classify' ? 'Classify' : 'Regress';
    if (sig === undefined) {
      // An unknown model or version is NOT_FOUND, before any signature question.
      const meta = this.core.modelMetadata(model, selector, caller);
      if (signatureName === meta.signatureName) {
        throw invalid(
          `Signature '${signatureName}' is a predict signature (${meta.signature.methodName}); ${api} needs a signature with method_name ${wanted}`,
        );
      }
      const known = [DEFAULT_SIGNATURE_NAME, ...Object.keys(declared)].join(', ');
      throw invalid(`Signature '${signatureName}' not found in signature def (available: ${known})`);
    }
    if (sig.method !== method) {
      throw invalid(
        `Signature '${sig.name}' is a ${sig.method} signature (${methodNameOf(sig.method)}); ${api} needs method_name ${wanted}`,
      );
    }
    return sig;
  }

  /** One Predict feeding the united inputs of `sigs`; returns its outputs and the example count. */
  private async run(call: ExampleCall, sigs: readonly ExampleSignature[], api: string) {
    const examples = mergeContext(call.input);
    const united = uniteSignatures(sigs);
    const result = await this.core.predict({
      model: call.model,
      selector: call.selector,
      inputs: (signature) => examplesToTensors(examples, united, signature),
      outputFilter: [...new Set(sigs.flatMap(outputsOf))],
      deadline: call.deadline,
      signal: call.signal,
      caller: call.caller,
      arrival: call.arrival,
      entrypoint: call.entrypoint,
      api,
    });
    const header: ExampleResultHeader = { model: result.model, version: result.version, signatureName: '' };
    return [header, result.outputs, examples.length] as const;
  }
}

function methodOf(methodName: string, task: number): ExampleMethod {
  if (methodName === CLASSIFY_METHOD) return 'classify';
  if (methodName === REGRESS_METHOD) return 'regress';
  throw invalid(
    `MultiInference task ${task} has method_name '${methodName}'; supported: ${CLASSIFY_METHOD}, ${REGRESS_METHOD}`,
  );
}

/** The signatures' feature → input mappings as one; an input fed by two different features is refused. */
function uniteSignatures(sigs: readonly ExampleSignature[]): FeedPlan {
  if (sigs.length === 1) return feedPlanOf(sigs[0]);
  const feeder = new Map<string, [string, string]>();
  for (const sig of sigs) {
    for (const [feature, input] of Object.entries(sig.inputs)) {
      const prior = feeder.get(input);
      if (prior !== undefined && prior[0] !== feature) {
        throw invalid(
          `Signatures '${prior[1]}' and '${sig.name}' feed model input '${input}' from different features ('${prior[0]}', '${feature}'); run them separately`,
        );
      }
      feeder.set(input, [feature, sig.name]);
    }
  }
  return {
    name: sigs.map((s) => s.name).join(', '),
    feeds: [...feeder].map(([input, [f]]) => [f, input] as const),
  };
}
