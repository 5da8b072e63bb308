import type { DType } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import {
  allocateStorage,
  fillValues,
  raggedError,
  type TensorStorage,
  type ValueOptions,
} from './json-values.js';

/** Default cap on the element count of one decoded input tensor. */
export const DEFAULT_MAX_ELEMENTS = 1 << 24;

/** Options for turning a nested JSON list into tensor storage. */
export interface NestedOptions extends ValueOptions {
  /** Largest element count accepted for one tensor. */
  readonly maxElements: number;
}

export interface NestedResult {
  /** The list's shape: lengths along the first branch, verified for every branch. */
  readonly shape: number[];
  readonly data: TensorStorage;
}

/**
 * Decodes a JSON value (a scalar, or nested lists of scalars) into row-major storage.
 * The shape is read along the first branch, then every list is checked against it while
 * the elements are written straight into the typed array.
 *
 * Throws INVALID_ARGUMENT `Encountered list at unexpected size` for ragged lists, for
 * element counts over `maxElements`, and for values the dtype rejects (see json-values).
 * Recursion depth equals the tensor's rank, which the body's depth limit bounds.
 */
export function decodeNested(value: unknown, dtype: DType, opts: NestedOptions): NestedResult {
  const shape: number[] = [];
  let node = value;
  while (Array.isArray(node)) {
    shape.push(node.length);
    if (node.length === 0) break;
    node = node[0];
  }
  let count = 1;
  for (const d of shape) count *= d;
  checkElementCount(count, opts);
  const data = allocateStorage(dtype, count);
  if (shape.length === 0) {
    fillValues([value], data, 0, dtype, opts);
  } else {
    const walker = new Walker(shape, data, dtype, opts);
    walker.fill(value as unknown[], 0);
  }
  return { shape, data };
}

/** Throws INVALID_ARGUMENT when `count` exceeds `opts.maxElements`. */
export function checkElementCount(count: number, opts: NestedOptions): void {
  if (count > opts.maxElements) {
    throw new ServingError(
      'INVALID_ARGUMENT',
      `Input '${opts.tensorName}' has ${count} elements, more than the limit of ${opts.maxElements}`,
    );
  }
}

class Walker {
  private offset = 0;
  private readonly last: number;

  constructor(
    private readonly shape: readonly number[],
    private readonly data: TensorStorage,
    private readonly dtype: DType,
    private readonly opts: NestedOptions,
  ) {
    this.last = shape.length - 1;
  }

  /** `list` is an array already known to have length shape[depth]. */
  fill(list: readonly unknown[], depth: number): void {
    if (depth === this.last) {
      fillValues(list, this.data, this.offset, this.dtype, this.opts);
      this.offset += list.length;
      return;
    }
    const want = this.shape[depth + 1];
    for (let i = 0; i < list.length; i++) {
      const child = list[i];
      if (!Array.isArray(child) || child.length !== want) throw raggedError(this.opts.tensorName);
      this.fill(child, depth + 1);
    }
  }
}
