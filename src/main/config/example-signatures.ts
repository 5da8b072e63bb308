import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SIGNATURE_NAME } from '../../core/signature.js';
import type { SchemaType } from './schema-type.js';

/**
 * tf.Example signatures (TF Serving's Classify and Regress) declared in a model's config,
 * for ONNX and TF.js models, which have none of their own. A signature maps tf.Example
 * features to the model's inputs and names the outputs the answer is read from; requests
 * become ordinary Predict calls on the model's `serving_default` signature, so they batch
 * with Predict traffic on the same model.
 *
 * YAML (under one entry of `models:`):
 *
 *     signatures:
 *       classify_x_to_y:
 *         method: classify          # or regress
 *         inputs: { x: x }          # feature name → model input name
 *         scores: y                 # classify: output with the scores ([N] or [N, classes])
 *         classes: label_output     # classify, optional: string output with the class names
 *         labels_file: labels.txt   # classify, optional: one class name per line
 *       regress_x_to_y:
 *         method: regress
 *         inputs: { x: x }
 *         values: y                 # regress: output with one value per example
 */

export type ExampleMethod = 'classify' | 'regress';

/** TF Serving's SignatureDef method names. */
export const CLASSIFY_METHOD = 'tensorflow/serving/classify';
export const REGRESS_METHOD = 'tensorflow/serving/regress';

/** One declared signature, validated and frozen. */
export interface ExampleSignature {
  readonly name: string;
  readonly method: ExampleMethod;
  /** Feature name → model input name. Every model input must be fed by one feature. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Classify: the output holding the scores. */
  readonly scores?: string;
  /** Classify: the string output holding the class names. */
  readonly classes?: string;
  /** Classify: class names from `labels_file`, one per score column. */
  readonly labels?: readonly string[];
  /** Regress: the output holding the values. */
  readonly values?: string;
}

const identifier = { type: 'string', minLength: 1 } as const;

/** JSON schema of a model entry's `signatures` key. */
export const exampleSignaturesSchema = {
  type: 'object',
  propertyNames: { pattern: '^[^\\s]+$' },
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    required: ['method', 'inputs'],
    properties: {
      method: { enum: ['classify', 'regress'] },
      inputs: { type: 'object', minProperties: 1, additionalProperties: identifier },
      scores: identifier,
      classes: identifier,
      labels_file: identifier,
      values: identifier,
    },
  },
} as const;

/** The raw (schema-validated) YAML shape of one signature. */
export type RawExampleSignature = SchemaType<typeof exampleSignaturesSchema.additionalProperties>;

/**
 * Builds the signatures of one model entry (`where` names it in problems, e.g.
 * `models[2]`); labels files are read now, relative to `baseDir`. Problems (a method's
 * missing or foreign keys, a reserved name, an unreadable or empty labels file) are appended
 * to `problems`.
 */
export function buildExampleSignatures(
  raw: Record<string, RawExampleSignature> | undefined,
  where: string,
  baseDir: string,
  problems: string[],
): Readonly<Record<string, ExampleSignature>> {
  const out: Record<string, ExampleSignature> = {};
  for (const [name, s] of Object.entries(raw ?? {})) {
    const at = `${where}.signatures.${name}`;
    if (name === DEFAULT_SIGNATURE_NAME) {
      problems.push(
        `${at}: '${DEFAULT_SIGNATURE_NAME}' is the model's own predict signature; pick another name`,
      );
      continue;
    }
    const inputNames = Object.values(s.inputs);
    const dup = inputNames.find((n, i) => inputNames.indexOf(n) !== i);
    if (dup !== undefined)
      problems.push(`${at}.inputs feeds model input '${dup}' from more than one feature`);
    if (s.method === 'classify') {
      if (s.scores === undefined)
        problems.push(`${at}: a classify signature needs 'scores' (the scores output)`);
      if (s.values !== undefined) problems.push(`${at}: 'values' is for regress signatures`);
      if (s.classes !== undefined && s.labels_file !== undefined) {
        problems.push(`${at}: give 'classes' or 'labels_file', not both`);
      }
    } else {
      if (s.values === undefined)
        problems.push(`${at}: a regress signature needs 'values' (the values output)`);
      for (const key of ['scores', 'classes', 'labels_file'] as const) {
        if (s[key] !== undefined) problems.push(`${at}: '${key}' is for classify signatures`);
      }
    }
    const labels = s.labels_file === undefined ? undefined : readLabels(s.labels_file, at, baseDir, problems);
    out[name] = {
      name,
      method: s.method,
      inputs: { ...s.inputs },
      ...(s.scores === undefined ? {} : { scores: s.scores }),
      ...(s.classes === undefined ? {} : { classes: s.classes }),
      ...(labels === undefined ? {} : { labels }),
      ...(s.values === undefined ? {} : { values: s.values }),
    };
  }
  return out;
}

/** One label per line; a trailing newline does not add an empty label. */
function readLabels(file: string, at: string, baseDir: string, problems: string[]): string[] | undefined {
  const absolute = path.resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    problems.push(
      `${at}.labels_file '${absolute}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
    return undefined;
  }
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) {
    problems.push(`${at}.labels_file '${absolute}' has no labels`);
    return undefined;
  }
  return lines;
}

/** The SignatureDef method name of a declared signature. */
export function methodNameOf(method: ExampleMethod): string {
  return method === 'classify' ? CLASSIFY_METHOD : REGRESS_METHOD;
}
