import { ServingError } from '../../core/errors.js';

/**
 * tf.Example input in one shape for both front ends. gRPC requests carry typed feature
 * lists (`tensorflow.Feature`'s oneof); REST JSON carries bare values whose kind is only
 * known once the signature says which model input they feed (kind `json`).
 */
export type Feature =
  | { readonly kind: 'float_list'; readonly values: readonly number[] }
  | { readonly kind: 'int64_list'; readonly values: readonly bigint[] }
  | { readonly kind: 'bytes_list'; readonly values: readonly Uint8Array[] }
  /** REST values (numbers, JsonNumber, strings, `{"b64": ...}`), typed by the input they feed. */
  | { readonly kind: 'json'; readonly values: readonly unknown[] };

/** One tf.Example's features by name. */
export type Features = ReadonlyMap<string, Feature>;

/** TF Serving's `Input`: examples and, for ExampleListWithContext, the shared context. */
export interface ExampleInput {
  readonly examples: readonly Features[];
  readonly context?: Features;
}

/* proto-loader object shapes (grpc-protos.ts LOADER_OPTIONS: int64 as strings, oneof names). */
interface FeatureObject {
  kind?: string;
  bytes_list?: { value?: Uint8Array[] } | null;
  float_list?: { value?: number[] } | null;
  int64_list?: { value?: string[] } | null;
}
interface ExampleObject {
  features?: { feature?: Record<string, FeatureObject> } | null;
}
/** `tensorflow.serving.Input` as proto-loader decodes it. */
export interface InputObject {
  kind?: string;
  example_list?: { examples?: ExampleObject[] } | null;
  example_list_with_context?: { examples?: ExampleObject[]; context?: ExampleObject | null } | null;
}

/**
 * ClassificationRequest and RegressionRequest (model_spec = 1, input = 2) as proto-loader
 * decodes them; `S` is the model spec shape the caller reads (at least its signature name).
 */
export interface ExampleRequestObject<S = { signature_name?: string }> {
  model_spec?: S | null;
  input?: InputObject | null;
}

/** MultiInferenceRequest (tasks = 1, input = 2): each task a model spec and a method name. */
export interface MultiInferenceRequestObject<S = { signature_name?: string }> {
  tasks?: { model_spec?: S | null; method_name?: string }[];
  input?: InputObject | null;
}

const NO_VALUES: Feature = Object.freeze({ kind: 'json', values: Object.freeze([]) });

function featureOf(f: FeatureObject): Feature {
  switch (f.kind) {
    case 'float_list':
      return { kind: 'float_list', values: f.float_list?.value ?? [] };
    case 'int64_list':
      return { kind: 'int64_list', values: (f.int64_list?.value ?? []).map((v) => BigInt(v)) };
    case 'bytes_list':
      return { kind: 'bytes_list', values: f.bytes_list?.value ?? [] };
    default:
      // A Feature with no kind set is an empty list of any kind (as TensorFlow reads it).
      return NO_VALUES;
  }
}

function featuresOf(e: ExampleObject | null | undefined): Features {
  const out = new Map<string, Feature>();
  for (const [name, f] of Object.entries(e?.features?.feature ?? {})) out.set(name, featureOf(f));
  return out;
}

/**
 * Decodes a gRPC `Input`. Throws INVALID_ARGUMENT when no kind is set (TF Serving: the
 * input is empty); an empty example list is rejected later, with the signature named.
 */
export function decodeInputObject(input: InputObject | null | undefined): ExampleInput {
  if (input?.kind === 'example_list' || (input?.kind === undefined && input?.example_list)) {
    return { examples: (input.example_list?.examples ?? []).map(featuresOf) };
  }
  if (input?.kind === 'example_list_with_context' || input?.example_list_with_context) {
    const l = input.example_list_with_context;
    return {
      examples: (l?.examples ?? []).map(featuresOf),
      context: l?.context ? featuresOf(l.context) : undefined,
    };
  }
  throw new ServingError(
    'INVALID_ARGUMENT',
    'Input is empty: set example_list or example_list_with_context with at least one example',
  );
}

/**
 * The examples with the context merged into each. INVALID_ARGUMENT naming the feature
 * when one appears both in the context and in an example.
 */
export function mergeContext(input: ExampleInput): readonly Features[] {
  const context = input.context;
  if (context === undefined || context.size === 0) return input.examples;
  return input.examples.map((example, i) => {
    const merged = new Map(context);
    for (const [name, f] of example) {
      if (context.has(name)) {
        throw new ServingError(
          'INVALID_ARGUMENT',
          `Feature '${name}' appears in both the context and example ${i}; a feature may be in only one`,
        );
      }
      merged.set(name, f);
    }
    return merged;
  });
}
