import { ServingError } from '../../core/errors.js';
import type { Tensor, TensorMap } from '../../core/tensor.js';
import type { ClassScore } from '../codecs/tfs-example-json.js';
import type { ExampleSignature } from '../config/example-signatures.js';

/**
 * Model outputs → TF Serving's ClassificationResult / RegressionResult, one entry per
 * example. Shapes are checked here because they come from the model, not the request:
 * mismatches are FAILED_PRECONDITION naming the signature.
 */

/** The outputs a signature reads, for the Predict call's output filter. */
export function outputsOf(sig: ExampleSignature): string[] {
  if (sig.method === 'regress') return [sig.values as string];
  return sig.classes === undefined ? [sig.scores as string] : [sig.scores as string, sig.classes];
}

function mismatch(sig: ExampleSignature, message: string): ServingError {
  return new ServingError('FAILED_PRECONDITION', `Signature '${sig.name}': ${message}`);
}

function output(outputs: TensorMap, name: string, sig: ExampleSignature): Tensor {
  const t = outputs[name];
  if (t === undefined) throw mismatch(sig, `the model has no output '${name}'`);
  return t;
}

/** Rows × columns of a [N] or [N, C] output. */
function matrixShape(t: Tensor, name: string, n: number, sig: ExampleSignature): [number, number] {
  const ok = (t.shape.length === 1 || t.shape.length === 2) && t.shape[0] === n;
  if (!ok) {
    throw mismatch(
      sig,
      `output '${name}' has shape [${t.shape.join(',')}]; expected [${n}] or [${n}, classes]`,
    );
  }
  return [n, t.shape.length === 1 ? 1 : t.shape[1]];
}

function numbersOf(t: Tensor, name: string, sig: ExampleSignature): ArrayLike<number> {
  if (t.dtype === 'float32' || t.dtype === 'float64') return t.data as Float32Array | Float64Array;
  throw mismatch(sig, `output '${name}' has dtype ${t.dtype}; scores and values must be float32 or float64`);
}

const decoder = new TextDecoder();

function labelsOf(t: Tensor, name: string, sig: ExampleSignature): string[] {
  if (t.dtype === 'string') return (t.data as Uint8Array[]).map((b) => decoder.decode(b));
  if (t.dtype === 'float16' || t.dtype === 'bool' || t.dtype.startsWith('float')) {
    throw mismatch(sig, `output '${name}' has dtype ${t.dtype}; classes must be strings or integers`);
  }
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => String(v));
}

/** Per example, one {label, score} per score column. */
export function classificationOf(outputs: TensorMap, sig: ExampleSignature, n: number): ClassScore[][] {
  const scoresName = sig.scores as string;
  const scores = output(outputs, scoresName, sig);
  const [, c] = matrixShape(scores, scoresName, n, sig);
  const values = numbersOf(scores, scoresName, sig);
  let labels: string[] | undefined;
  let labelsPerRow = false;
  if (sig.classes !== undefined) {
    const classes = output(outputs, sig.classes, sig);
    const [, lc] = matrixShape(classes, sig.classes, n, sig);
    if (lc !== c) throw mismatch(sig, `output '${sig.classes}' has ${lc} classes per example, scores ${c}`);
    labels = labelsOf(classes, sig.classes, sig);
    labelsPerRow = true;
  } else if (sig.labels !== undefined) {
    if (sig.labels.length !== c) {
      throw mismatch(
        sig,
        `the labels file has ${sig.labels.length} labels, the model ${c} scores per example`,
      );
    }
    labels = [...sig.labels];
  }
  const result: ClassScore[][] = [];
  for (let i = 0; i < n; i++) {
    const row: ClassScore[] = [];
    for (let k = 0; k < c; k++) {
      const label = labels === undefined ? '' : labels[labelsPerRow ? i * c + k : k];
      row.push({ label, score: values[i * c + k] });
    }
    result.push(row);
  }
  return result;
}

/** One value per example from a [N] or [N, 1] output. */
export function regressionOf(outputs: TensorMap, sig: ExampleSignature, n: number): number[] {
  const name = sig.values as string;
  const t = output(outputs, name, sig);
  const [, c] = matrixShape(t, name, n, sig);
  if (c !== 1) throw mismatch(sig, `output '${name}' has ${c} values per example; regress needs one`);
  return Array.from(numbersOf(t, name, sig));
}
