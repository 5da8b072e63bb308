/**
 * Number → JSON text for tensor elements. Pure functions, used by every JSON encoder.
 *
 * Floats are written in the shortest decimal form that reads back to the same value OF THEIR
 * DTYPE: a float32 0.1 prints as `0.1`, not `0.10000000149011612` (which is what `String()`
 * of the widened double gives). Non-finite values are the bare tokens `NaN`, `Infinity`,
 * `-Infinity`, as TF Serving writes them (not strict JSON; TF Serving clients accept them).
 * Finite integral values keep a decimal point (`3.0`, not `3`), as TF Serving prints floats,
 * so clients can tell a float output from an integer one.
 */

// Exact powers of ten: every 10^k with 0 <= k <= 22 is a double, so r / 10^k and r * 10^k
// with an integer r < 2^53 are correctly rounded, i.e. the double a parser gives for the
// decimal "r e-k".
const POW10: number[] = [];
for (let k = 0; k <= 22; k++) POW10.push(10 ** k);

/** A float64 as JSON text: JS's own shortest round-trip form. */
export function formatFloat64(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return 1 / v < 0 ? '-0.0' : '0.0';
  return withPoint(String(v));
}

/** `s` (a finite number's text) with `.0` appended when it has neither a point nor an exponent. */
function withPoint(s: string): string {
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/**
 * A float32 value (a double that is exactly a float32) as the shortest decimal that
 * `Math.fround` maps back to it. Tries 1..9 significant digits with exact integer
 * arithmetic and verifies each candidate, so the result always round-trips; it is the
 * shortest except in rare cases at a power-of-two boundary, where it is one digit longer.
 */
export function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return 1 / v < 0 ? '-0.0' : '0.0';
  const neg = v < 0;
  const a = neg ? -v : v;
  // Integers below 2^24 are exact in float32 and String() already prints them shortest.
  if (a < 16777216 && Math.floor(a) === a) return `${v}.0`;
  let e = Math.floor(Math.log10(a));
  // log10 may be off by one next to powers of ten; fix it so `a` lies in [10^e, 10^(e+1)).
  if (pow10(e) > a) e--;
  else if (pow10(e + 1) <= a) e++;
  for (let p = 1; p <= 9; p++) {
    // Candidate: a rounded to p significant digits = r * 10^(e+1-p).
    const k = p - 1 - e;
    if (k >= 0 && k <= 22) {
      const r = Math.round(a * POW10[k]);
      if (Math.fround(r / POW10[k]) === a) return writeDecimal(neg, r, -k);
    } else if (k < 0 && k >= -22) {
      const r = Math.round(a / POW10[-k]);
      if (Math.fround(r * POW10[-k]) === a) return writeDecimal(neg, r, -k);
    } else {
      // Very small or very large magnitudes: 10^k is inexact, let the parser decide.
      const s = a.toPrecision(p);
      if (Math.fround(Number(s)) === a) return withPoint((neg ? '-' : '') + String(Number(s)));
    }
  }
  return withPoint(String(v));
}

function pow10(e: number): number {
  return e >= 0 && e <= 22 ? POW10[e] : 10 ** e;
}

/**
 * Writes r * 10^exp (r a positive integer) the way `Number.prototype.toString` would:
 * fixed notation for 1e-7 <= x < 1e21, exponent notation otherwise; integral values in
 * fixed notation end in `.0`.
 */
function writeDecimal(neg: boolean, r: number, exp: number): string {
  let digits = String(r);
  // Drop trailing zeros into the exponent so the digit string is minimal.
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  exp += digits.length - end;
  digits = digits.slice(0, end);
  const n = digits.length;
  // Position of the decimal point relative to the start of `digits` (JS's "n" in ToString).
  const point = n + exp;
  let out: string;
  if (exp >= 0 && point <= 21) out = `${digits}${'0'.repeat(exp)}.0`;
  else if (point > 0 && point <= 21) out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  else if (point <= 0 && point > -6) out = `0.${'0'.repeat(-point)}${digits}`;
  else {
    const e = point - 1;
    const mant = n === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    out = `${mant}e${e < 0 ? '-' : '+'}${e < 0 ? -e : e}`;
  }
  return neg ? `-${out}` : out;
}

/** IEEE half-precision bits → the number they denote (exact). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
