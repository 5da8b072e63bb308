import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue } from '../../../src/batching/fair-queue.js';

interface Item {
  readonly id: string;
  readonly rows: number;
  readonly tenant: string | undefined;
  readonly enqueuedAt: number;
}

let clock = 0;
const item = (id: string, tenant: string | undefined, rows = 1): Item => ({
  id,
  rows,
  tenant,
  enqueuedAt: clock++,
});
const all = () => true;
const ids = (items: Item[]) => items.map((i) => i.id);

describe('FairQueue', () => {
  it('is FIFO with one tenant, and stops at a request that does not fit', () => {
    const q = new FairQueue<Item>();
    for (const [id, rows] of [
      ['a', 1],
      ['b', 3],
      ['c', 2],
      ['d', 4],
    ] as const)
      q.push(item(id, undefined, rows));
    assert.equal(q.rows, 10);
    assert.deepEqual(ids(q.take(8, all)), ['a', 'b', 'c']);
    assert.deepEqual(ids(q.take(8, all)), ['d']);
    assert.equal(q.size, 0);
    assert.equal(q.rows, 0);
  });

  it('does not let a tenant sending 10x as many requests starve another', () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 40; i++) q.push(item(`A${i}`, 'A'));
    for (let i = 0; i < 4; i++) q.push(item(`B${i}`, 'B'));
    const first = ids(q.take(8, all));
    assert.equal(first.filter((id) => id.startsWith('B')).length, 4, `first batch ${first}`);
    assert.equal(first.filter((id) => id.startsWith('A')).length, 4);
    // Within a tenant, order is kept.
    assert.deepEqual(
      first.filter((id) => id.startsWith('A')),
      ['A0', 'A1', 'A2', 'A3'],
    );
  });

  it('shares rows by weight', () => {
    const q = new FairQueue<Item>();
    q.setTenantWeight('A', 3);
    for (let i = 0; i < 30; i++) q.push(item(`A${i}`, 'A'));
    for (let i = 0; i < 30; i++) q.push(item(`B${i}`, 'B'));
    const batch = ids(q.take(16, all));
    assert.equal(batch.filter((id) => id.startsWith('A')).length, 12);
    assert.equal(batch.filter((id) => id.startsWith('B')).length, 4);
  });

  it('counts rows, not requests, across batches', () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 10; i++) q.push(item(`A${i}`, 'A', 4));
    for (let i = 0; i < 20; i++) q.push(item(`B${i}`, 'B', 1));
    let rowsA = 0;
    let rowsB = 0;
    for (let n = 0; n < 4; n++) {
      for (const it of q.take(8, all)) {
        if (it.tenant === 'A') rowsA += it.rows;
        else rowsB += it.rows;
      }
    }
    assert.ok(Math.abs(rowsA - rowsB) <= 4, `A ${rowsA} rows vs B ${rowsB} rows`);
  });

  it('skips a tenant whose head is refused and keeps its place', () => {
    const q = new FairQueue<Item>();
    q.push(item('A0', 'A'));
    q.push(item('B0', 'B'));
    q.push(item('A1', 'A'));
    assert.deepEqual(ids(q.take(8, (i) => i.tenant === 'A')), ['A0', 'A1']);
    assert.deepEqual(ids(q.take(8, all)), ['B0']);
  });

  it('removes queued items and reports the oldest', () => {
    const q = new FairQueue<Item>();
    const a = item('a', 'A');
    const b = item('b', 'B');
    const c = item('c', 'A');
    q.push(a);
    q.push(b);
    q.push(c);
    assert.equal(q.oldest(), a);
    assert.ok(q.remove(a));
    assert.ok(!q.remove(a));
    assert.equal(q.oldest(), b);
    assert.equal(q.size, 2);
    assert.deepEqual(ids([...q.items()]).sort(), ['b', 'c']);
    assert.deepEqual(ids(q.take(8, all)).sort(), ['b', 'c']);
    assert.equal(q.oldest(), undefined);
  });

  it('rejects non-positive weights', () => {
    assert.throws(() => new FairQueue<Item>().setTenantWeight('A', 0), RangeError);
  });
});
