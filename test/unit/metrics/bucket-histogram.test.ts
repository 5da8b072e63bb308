import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedLabel, OTHER_LABEL } from '../../../src/main/metrics/bounded-label.js';
import { BucketHistogram, exponentialBuckets } from '../../../src/main/metrics/bucket-histogram.js';

describe('BucketHistogram', () => {
  it('counts a value in the first bucket whose bound is >= it, past the last into +Inf', () => {
    const h = new BucketHistogram([1, 10, 100]);
    for (const v of [0, 1, 1.5, 10, 100, 101, 1e9]) h.observe(v);
    assert.deepEqual([...h.counts], [2, 2, 1, 2]);
    assert.equal(h.count, 7);
    assert.equal(h.sum, 0 + 1 + 1.5 + 10 + 100 + 101 + 1e9);
  });

  it('builds TF Serving exponential buckets with clean bounds', () => {
    assert.deepEqual(exponentialBuckets(10, 1.8, 4), [10, 18, 32.4, 58.32]);
    assert.equal(exponentialBuckets(10, 1.8, 33).length, 33);
    assert.throws(() => exponentialBuckets(0, 2, 3), RangeError);
    assert.throws(() => exponentialBuckets(1, 1, 3), RangeError);
    assert.throws(() => exponentialBuckets(1, 2, 0), RangeError);
  });
});

describe('BoundedLabel', () => {
  it('keeps the first max values and maps later ones to __other__ for good', () => {
    const l = new BoundedLabel(2);
    assert.equal(l.map('a'), 'a');
    assert.equal(l.map('b'), 'b');
    assert.equal(l.map('c'), OTHER_LABEL);
    assert.equal(l.map('a'), 'a');
    assert.equal(l.map('c'), OTHER_LABEL);
    assert.equal(l.size, 2);
    assert.throws(() => new BoundedLabel(-1), RangeError);
  });
});
