import { ServingError } from './errors.js';
import type { Signature, TensorSpec } from './signature.js';
import { elementCount, type TensorMap } from './tensor.js';

function formatShape(shape: readonly number[] | null): string {
  return shape === null ? '<unknown rank>' : `[${shape.join(',')}]`;
}

function checkOne(model: string, spec: TensorSpec, shape: readonly number[], maxElements: number): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Input '${spec.name}' has an invalid dimension ${d} in shape ${formatShape(shape)}`,
      );
    }
  }
  const n = elementCount(shape);
  if (n > maxElements) {
    throw new ServingError(
      'INVALID_ARGUMENT',
      `Input '${spec.name}' has ${n} elements, more than the limit of ${maxElements} (server.limits.max_tensor_elements)`,
    );
  }
  if (spec.shape === null) return;
  const ok = spec.shape.length === shape.length && spec.shape.every((d, i) => d === -1 || d === shape[i]);
  if (!ok) {
    throw new ServingError(
      'INVALID_ARGUMENT',
      `Input '${spec.name}' of model '${model}' has shape ${formatShape(shape)}, but the signature expects ${formatShape(spec.shape)}`,
    );
  }
}

/**
 * Checks a request's tensors against a signature: exactly the signature's input names,
 * matching dtypes and shapes (-1 dims free), element limits, and for batched signatures
 * one shared, non-zero batch dim. Returns the request's row count (1 for unbatched models).
 * Throws ServingError INVALID_ARGUMENT naming the tensor and the problem.
 */
export function validateInputs(
  model: string,
  signature: Signature,
  inputs: TensorMap,
  maxElements: number,
): number {
  const expected = signature.inputs;
  for (const name of Object.keys(inputs)) {
    if (!expected.some((s) => s.name === name)) {
      const names = expected.map((s) => s.name).join(', ');
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Unknown input '${name}' for model '${model}' (inputs: ${names})`,
      );
    }
  }
  let rows = -1;
  for (const spec of expected) {
    const t = inputs[spec.name];
    if (t === undefined)
      throw new ServingError('INVALID_ARGUMENT', `Missing input '${spec.name}' for model '${model}'`);
    if (t.dtype !== spec.dtype) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Input '${spec.name}' of model '${model}' must be ${spec.dtype}, got ${t.dtype}`,
      );
    }
    checkOne(model, spec, t.shape, maxElements);
    if (signature.batched) {
      const n = t.shape[0];
      if (n === 0)
        throw new ServingError('INVALID_ARGUMENT', `Input '${spec.name}' has an empty batch (dim 0 is 0)`);
      if (rows === -1) rows = n;
      else if (n !== rows) {
        throw new ServingError(
          'INVALID_ARGUMENT',
          `Inputs disagree on the batch size: '${spec.name}' has ${n} rows, another input has ${rows}`,
        );
      }
    }
  }
  return signature.batched ? rows : 1;
}

/** Resolves an output filter against the signature; all outputs in signature order when empty. */
export function selectOutputs(
  model: string,
  signature: Signature,
  filter: readonly string[] | undefined,
): string[] {
  const all = signature.outputs.map((s) => s.name);
  if (!filter || filter.length === 0) return all;
  const seen = new Set<string>();
  for (const name of filter) {
    if (!all.includes(name)) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Unknown output '${name}' for model '${model}' (outputs: ${all.join(', ')})`,
      );
    }
    if (seen.has(name))
      throw new ServingError('INVALID_ARGUMENT', `Output '${name}' is requested more than once`);
    seen.add(name);
  }
  return [...seen];
}

/**
 * Refuses string elements holding a NUL byte for runtimes that cut strings at the first NUL
 * (onnxruntime-node passes strings to ORT as C strings): corrupting the input silently would
 * be worse than refusing it. Throws ServingError INVALID_ARGUMENT naming the input and element.
 */
export function rejectNulStrings(model: string, platform: string, inputs: TensorMap): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'string') continue;
    const elements = t.data as Uint8Array[];
    for (let i = 0; i < elements.length; i++) {
      if (elements[i].includes(0)) {
        throw new ServingError(
          'INVALID_ARGUMENT',
          `Input '${name}' of model '${model}': string element ${i} contains a NUL byte, which the ${platform} runtime cannot represent`,
        );
      }
    }
  }
}

/** Runtimes whose string tensors end at the first NUL byte. */
export const NUL_TRUNCATING_PLATFORMS: ReadonlySet<string> = new Set(['onnx']);
