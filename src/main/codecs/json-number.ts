/**
 * A JSON number token kept with its source text, for the values a plain `number` cannot
 * describe faithfully: integer-valued tokens written with a fraction or an exponent (`1.0`,
 * `1e3`, which integer dtypes must reject) and integers of more than 15 digits (which a
 * double may round; int64/uint64 read them exactly via BigInt).
 *
 * Produced only by parseJsonBody with `exactNumbers` (json-body.ts), and only for such
 * tokens; every other number stays a plain `number`. Immutable.
 */
export class JsonNumber {
  /** The number as a double, what JSON.parse would have given. */
  readonly value: number;
  /** True when the token has no fraction and no exponent (`-123`, not `1.0` or `1e3`). */
  readonly integral: boolean;

  /** `source` must be a valid JSON number token. */
  constructor(readonly source: string) {
    this.value = Number(source);
    this.integral = !/[.eE]/.test(source);
  }

  toString(): string {
    return this.source;
  }
}

// JSON's number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const LOWER_E = 101;
const UPPER_E = 69;

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/**
 * End index (exclusive) of the JSON number token starting at `start`, or -1 when the text
 * there is not a complete, valid number token (then the caller leaves it for JSON.parse to
 * reject).
 */
export function scanNumberToken(text: string, start: number): number {
  let i = start;
  if (text.charCodeAt(i) === MINUS) i++;
  const first = text.charCodeAt(i);
  if (!isDigit(first)) return -1;
  i++;
  if (first !== DIGIT_0) while (isDigit(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === DOT) {
    i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === LOWER_E || e === UPPER_E) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

/**
 * True when the number token `token` must be kept as a JsonNumber: it is integer-valued but
 * written with a fraction or exponent, or an integer of more than 15 digits. Tokens such as
 * `1.5` stay plain numbers: no integer dtype accepts them either way.
 */
export function needsExactNumber(token: string): boolean {
  const digits = token.charCodeAt(0) === MINUS ? token.length - 1 : token.length;
  if (!/[.eE]/.test(token)) return digits > 15;
  return Number.isInteger(Number(token));
}
