import { ServingError } from '../../core/errors.js';
import { formatFloat32 } from './float-format.js';
import { JsonNumber } from './json-number.js';
import { isB64Object } from './json-values.js';
import type { ExampleInput, Feature, Features } from './tf-example.js';

/**
 * TF Serving REST `:classify` / `:regress` bodies:
 * `{"signature_name"?: s, "context"?: {feature: value|list}, "examples": [{feature: value|list}, ...]}`,
 * values being numbers, strings or `{"b64": "..."}`. Feature kinds are settled later, by the
 * model input each feature feeds (example-tensors.ts). Answers: classify
 * `{"result": [[[label, score], ...], ...]}`, regress `{"result": [v, ...]}`.
 */

export interface ExampleRequestJson {
  readonly signatureName: string | undefined;
  readonly input: ExampleInput;
}

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

function isScalar(v: unknown): boolean {
  return typeof v === 'number' || v instanceof JsonNumber || typeof v === 'string' || isB64Object(v);
}

function featuresOf(v: unknown, where: string): Features {
  if (!isObject(v)) throw invalid(`${where} must be an object mapping feature names to values`);
  const out = new Map<string, Feature>();
  for (const [name, value] of Object.entries(v)) {
    const values = Array.isArray(value) ? value : [value];
    for (const e of values) {
      if (!isScalar(e)) {
        throw invalid(
          `Feature '${name}' in ${where}: values must be numbers, strings or {"b64": "..."}, or one flat list of them`,
        );
      }
    }
    out.set(name, { kind: 'json', values });
  }
  return out;
}

/**
 * Reads a parsed body (parseJsonBody with exact numbers, so integer features keep their
 * source text). Throws INVALID_ARGUMENT naming the key or feature at fault.
 */
export function decodeExampleRequestJson(body: unknown): ExampleRequestJson {
  if (!isObject(body)) throw invalid('The request body must be a JSON object');
  const s = body.signature_name;
  if (s !== undefined && typeof s !== 'string') throw invalid("'signature_name' must be a string");
  if (!('examples' in body)) throw invalid("Missing 'examples' key");
  const examples = body.examples;
  if (!Array.isArray(examples)) throw invalid("'examples' must be a list of objects");
  const context = body.context === undefined ? undefined : featuresOf(body.context, "'context'");
  return {
    signatureName: s,
    input: { examples: examples.map((e, i) => featuresOf(e, `example ${i}`)), context },
  };
}

/** One example's classes, best first as the model wrote them. */
export interface ClassScore {
  readonly label: string;
  readonly score: number;
}

/** `{"result": [[[label, score], ...], ...]}`; scores are float32, as the proto's. */
export function encodeClassifyJson(result: readonly (readonly ClassScore[])[]): string {
  let s = '{"result":[';
  for (let i = 0; i < result.length; i++) {
    if (i > 0) s += ',';
    s += '[';
    const classes = result[i];
    for (let k = 0; k < classes.length; k++) {
      if (k > 0) s += ',';
      s += `[${JSON.stringify(classes[k].label)},${formatFloat32(Math.fround(classes[k].score))}]`;
    }
    s += ']';
  }
  return `${s}]}`;
}

/** `{"result": [v, ...]}`; values are float32, as the proto's. */
export function encodeRegressJson(values: readonly number[]): string {
  return `{"result":[${values.map((v) => formatFloat32(Math.fround(v))).join(',')}]}`;
}
