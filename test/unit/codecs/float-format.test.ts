import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFloat32, formatFloat64, halfToNumber } from '../../../src/main/codecs/float-format.js';

/** Reference: the fewest significant digits (1..9) whose decimal maps back through fround. */
function shortestDigits(f: number): number {
  for (let p = 1; p <= 9; p++) if (Math.fround(Number(f.toPrecision(p))) === f) return p;
  return 17;
}

function digitsOf(s: string): number {
  return (
    s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length || 1
  );
}

describe('formatFloat32', () => {
  it('prints float32 values in their shortest round-trip form', () => {
    assert.equal(formatFloat32(Math.fround(0.1)), '0.1');
    assert.equal(formatFloat32(Math.fround(1 / 3)), '0.33333334');
    assert.equal(formatFloat32(Math.fround(-2.5)), '-2.5');
    assert.equal(formatFloat32(Math.fround(3.4e38)), '3.4e+38');
    assert.equal(formatFloat32(Math.fround(1e-45)), '1e-45');
    assert.equal(formatFloat32(Math.fround(1e-7)), '1e-7');
    assert.equal(formatFloat32(Math.fround(0.000123)), '0.000123');
    assert.equal(formatFloat32(Math.fround(123456789)), '123456790.0');
    assert.equal(formatFloat32(100), '100.0');
    assert.equal(formatFloat32(0), '0.0');
    assert.equal(formatFloat32(-0), '-0.0');
  });

  it('keeps a decimal point on integral values, as TF Serving prints floats', () => {
    assert.equal(formatFloat32(3), '3.0');
    assert.equal(formatFloat32(-2), '-2.0');
    assert.equal(formatFloat32(Math.fround(3e10)), '30000000000.0');
    assert.equal(formatFloat32(Math.fround(1e30)), '1e+30');
    assert.equal(formatFloat32(2.5), '2.5');
  });

  it('writes non-finite values as bare tokens', () => {
    assert.equal(formatFloat32(Number.NaN), 'NaN');
    assert.equal(formatFloat32(Infinity), 'Infinity');
    assert.equal(formatFloat32(-Infinity), '-Infinity');
  });

  it('round-trips and is shortest for random bit patterns', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      u[0] = seed ^ (seed << 13);
      const v = f[0];
      if (!Number.isFinite(v)) continue;
      const s = formatFloat32(v);
      assert.equal(Math.fround(JSON.parse(s)), v, `${v} → ${s}`);
      assert.ok(digitsOf(s) <= shortestDigits(v), `${v} → ${s} is not shortest`);
    }
  });
});

describe('formatFloat64 and halfToNumber', () => {
  it('prints doubles as JS does, with bare non-finite tokens', () => {
    assert.equal(formatFloat64(0.1), '0.1');
    assert.equal(formatFloat64(Math.fround(0.1)), '0.10000000149011612');
    assert.equal(formatFloat64(Number.NaN), 'NaN');
    assert.equal(formatFloat64(-Infinity), '-Infinity');
  });

  it('keeps a decimal point on integral doubles', () => {
    assert.equal(formatFloat64(3), '3.0');
    assert.equal(formatFloat64(-0), '-0.0');
    assert.equal(formatFloat64(1e20), '100000000000000000000.0');
    assert.equal(formatFloat64(1e21), '1e+21');
    assert.equal(formatFloat64(4.5), '4.5');
  });

  it('decodes half-precision bit patterns', () => {
    assert.equal(halfToNumber(0x3c00), 1);
    assert.equal(halfToNumber(0xc000), -2);
    assert.equal(halfToNumber(0x7bff), 65504);
    assert.equal(halfToNumber(0x0001), 2 ** -24);
    assert.equal(halfToNumber(0x7c00), Infinity);
    assert.ok(Number.isNaN(halfToNumber(0x7e00)));
  });
});
