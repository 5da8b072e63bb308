/** Label value that stands for every value past a family's cardinality limit. */
export const OTHER_LABEL = '__other__';

/**
 * Keeps a label's cardinality bounded: the first `max` distinct values are kept as they
 * are, every later one maps to `__other__`. Values are never forgotten, so a series never
 * changes label once reported (counters stay monotonic).
 */
export class BoundedLabel {
  private readonly max: number;
  private readonly seen = new Set<string>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0)
      throw new RangeError('max label values must be a non-negative integer');
    this.max = max;
  }

  map(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size < this.max) {
      this.seen.add(value);
      return value;
    }
    return OTHER_LABEL;
  }

  get size(): number {
    return this.seen.size;
  }
}
