import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capLogFields, capString, MAX_LOGGED_STRING } from '../../../src/main/logging/log-field-cap.js';

describe('log field caps', () => {
  it('leaves short values and their objects untouched (same reference)', () => {
    const obj = { a: 'x', n: 1, nested: { b: ['y', 2] } };
    assert.equal(capLogFields(obj), obj);
    assert.equal(capString('short'), 'short');
  });

  it('cuts long strings at any depth it walks and says how much was cut', () => {
    const long = 'z'.repeat(MAX_LOGGED_STRING + 10);
    const obj = { top: long, nested: { list: ['ok', long] }, keep: 3 };
    const capped = capLogFields(obj);
    assert.notEqual(capped, obj);
    assert.equal(capped.top, `${'z'.repeat(MAX_LOGGED_STRING)}...[10 more chars]`);
    assert.equal(capped.nested.list[1], capped.top);
    assert.equal(capped.nested.list[0], 'ok');
    assert.equal(capped.keep, 3);
    assert.equal(obj.top, long, 'the caller object is not mutated');
  });

  it('caps an error message but keeps its type', () => {
    const err = new TypeError('e'.repeat(5000));
    const capped = capLogFields({ err }).err as unknown as { type: string; message: string };
    assert.equal(capped.type, 'TypeError');
    assert.equal(capped.message.length, MAX_LOGGED_STRING + '...[3976 more chars]'.length);
    const small = new Error('fine');
    assert.equal(capLogFields({ err: small }).err, small);
  });
});
