import type { Signature, TensorSpec } from '../../core/signature.js';
import { type ExampleSignature, methodNameOf } from '../config/example-signatures.js';

/**
 * How metadata (REST and gRPC GetModelMetadata) describes declared tf.Example signatures:
 * one SignatureDef each, with method_name `tensorflow/serving/classify` or `.../regress`.
 * Inputs are keyed by feature name and carry the dtype and shape of the model input the
 * feature feeds; outputs use TF Serving's keys: `scores` and (optionally) `classes` for
 * classify, `outputs` for regress. Never throws: a mapping naming an input or output the
 * model lacks is described with an unknown shape (requests then fail with the reason).
 */
export function exampleSignatureDefs(
  declared: Readonly<Record<string, ExampleSignature>>,
  model: Signature,
): Record<string, Signature> {
  const out: Record<string, Signature> = {};
  for (const sig of Object.values(declared)) {
    const inputs = Object.entries(sig.inputs).map(([feature, input]) =>
      specAs(
        feature,
        model.inputs.find((s) => s.name === input),
      ),
    );
    const outputs: TensorSpec[] = [];
    const modelOutput = (name: string | undefined) => model.outputs.find((s) => s.name === name);
    if (sig.method === 'classify') {
      outputs.push({ ...specAs('scores', modelOutput(sig.scores)), dtype: 'float32' });
      if (sig.classes !== undefined || sig.labels !== undefined) {
        const shape = modelOutput(sig.scores)?.shape ?? null;
        outputs.push({ name: 'classes', dtype: 'string', shape });
      }
    } else {
      outputs.push({ ...specAs('outputs', modelOutput(sig.values)), dtype: 'float32' });
    }
    out[sig.name] = { inputs, outputs, batched: model.batched, methodName: methodNameOf(sig.method) };
  }
  return out;
}

function specAs(name: string, spec: TensorSpec | undefined): TensorSpec {
  return { name, dtype: spec?.dtype ?? 'float32', shape: spec?.shape ?? null };
}
