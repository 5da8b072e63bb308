import { ServingError } from '../../core/errors.js';
import { JsonNumber, needsExactNumber, scanNumberToken } from './json-number.js';

/** Limits applied to a JSON request body before it is parsed. */
export interface JsonBodyLimits {
  /** Deepest allowed nesting of arrays and objects (the top-level value is depth 1). */
  readonly maxDepth: number;
}

/** How parseJsonBody reads numbers. */
export interface JsonBodyOptions {
  /**
   * Keep number tokens a double cannot describe faithfully as JsonNumber objects (`1.0`,
   * `1e3`, integers over 15 digits; see json-number.ts) instead of plain numbers. Default
   * false. Consumers must then accept JsonNumber wherever a number may appear.
   */
  readonly exactNumbers?: boolean;
}

/**
 * A parsed body in both number readings, for callers that learn only after parsing
 * whether exact numbers matter (the TF Serving route: when the signature has integer inputs).
 */
export interface JsonBody {
  /** The body with plain numbers. */
  readonly value: unknown;
  /**
   * The body with JsonNumber objects where exactness matters. Returns `value` itself when
   * the body has no such tokens; otherwise parses the text again on the first call (cached).
   */
  exact(): unknown;
}

// Sentinels stand in for the non-standard tokens during JSON.parse. A client string equal
// to one of them would be read as the number; the NUL bytes make that practically impossible.
const NAN_SENTINEL = '\u0000tensorserve:NaN\u0000';
const POS_INF_SENTINEL = '\u0000tensorserve:+Infinity\u0000';
const NEG_INF_SENTINEL = '\u0000tensorserve:-Infinity\u0000';
const NUMBER_SENTINEL = '\u0000tensorserve:number:';

const QUOTE = 34;
const BACKSLASH = 92;
const MINUS = 45;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const UPPER_N = 78;
const UPPER_I = 73;
const UPPER_E = 69;
const LOWER_E = 101;

// scanBody's findings.
const HAS_SPECIAL = 1; // NaN / Infinity tokens
const HAS_INEXACT = 2; // a number with '.', 'e' or 'E', or an integer over 15 digits
const MAX_EXACT_DIGITS = 15;

/**
 * Parses a REST request body the way TF Serving does: standard JSON plus the bare tokens
 * `NaN`, `Infinity` and `-Infinity` (outside strings). Nesting deeper than
 * `limits.maxDepth` is rejected by a linear, non-recursive scan before anything is parsed,
 * so a hostile body cannot exhaust the stack here or in the decoders that walk the result.
 *
 * Standard bodies go straight to `JSON.parse` after the scan; only bodies containing the
 * non-standard tokens, or (with `opts.exactNumbers`) numbers with a fraction, an exponent or
 * over 15 digits, pay for a token rewrite and a walk that restores the values.
 *
 * Throws ServingError INVALID_ARGUMENT for malformed JSON (`JSON Parse error: ...`, with
 * the parser's position message) and for bodies over the depth limit.
 */
export function parseJsonBody(text: string, limits: JsonBodyLimits, opts: JsonBodyOptions = {}): unknown {
  return parseScanned(text, scanBody(text, limits.maxDepth), opts.exactNumbers === true);
}

/**
 * Scans and parses once with plain numbers (as parseJsonBody); `exact()` gives the
 * `exactNumbers` reading, re-parsing only when the scan saw a token that needs it.
 * Throws as parseJsonBody.
 */
export function readJsonBody(text: string, limits: JsonBodyLimits): JsonBody {
  const flags = scanBody(text, limits.maxDepth);
  const value = parseScanned(text, flags, false);
  if ((flags & HAS_INEXACT) === 0) return { value, exact: () => value };
  let exact: unknown;
  let parsed = false;
  return {
    value,
    exact: () => {
      if (!parsed) {
        exact = parseScanned(text, flags, true);
        parsed = true;
      }
      return exact;
    },
  };
}

function parseScanned(text: string, flags: number, exactNumbers: boolean): unknown {
  const special = (flags & HAS_SPECIAL) !== 0;
  const numbers = exactNumbers && (flags & HAS_INEXACT) !== 0;
  try {
    if (!special && !numbers) return JSON.parse(text);
    return restoreSentinels(JSON.parse(rewriteTokens(text, special, numbers)));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ServingError('INVALID_ARGUMENT', `JSON Parse error: ${detail}`, { cause: err });
  }
}

/**
 * Counts bracket depth outside strings and reports (HAS_SPECIAL) whether an `N` or `I`
 * occurs outside strings (no standard JSON token contains those letters) and (HAS_INEXACT)
 * whether a number has a '.', an exponent, or more than 15 digits. Throws when the depth
 * exceeds `maxDepth`. One pass, a few compares per byte: the fast path's only extra cost.
 */
function scanBody(text: string, maxDepth: number): number {
  let depth = 0;
  let flags = 0;
  let digits = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // Digits, signs, dots, commas, colons and whitespace are all below 'A'.
    if (c < 65) {
      if (c >= DIGIT_0 && c <= DIGIT_9) {
        if (++digits > MAX_EXACT_DIGITS) flags |= HAS_INEXACT;
        continue;
      }
      digits = 0;
      if (c === QUOTE) i = endOfString(text, i);
      else if (c === DOT) flags |= HAS_INEXACT;
      continue;
    }
    if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) {
        throw new ServingError(
          'INVALID_ARGUMENT',
          `JSON Parse error: nesting depth exceeds the limit of ${maxDepth} at offset ${i}`,
        );
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    } else if (c === UPPER_N || c === UPPER_I) {
      flags |= HAS_SPECIAL;
    } else if ((c === LOWER_E || c === UPPER_E) && digits > 0) {
      // An exponent (the 'e' of true/false follows a letter, not a digit).
      flags |= HAS_INEXACT;
    }
    digits = 0;
  }
  return flags;
}

/** Index of the quote closing the string opened at `start` (or the text's end). */
function endOfString(text: string, start: number): number {
  let i = start;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i < 0) return text.length;
    // The quote is escaped when an odd number of backslashes precede it.
    let b = i - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((i - 1 - b) % 2 === 0) return i;
  }
}

/**
 * Replaces, outside strings, NaN / Infinity / -Infinity tokens (when `special`) and the
 * number tokens needsExactNumber picks (when `numbers`) with sentinel strings. Invalid
 * tokens are left in place for JSON.parse to reject with its own message.
 */
function rewriteTokens(text: string, special: boolean, numbers: boolean): string {
  let out = '';
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      continue;
    }
    let start = -1;
    let len = 0;
    let sentinel = '';
    if (numbers && (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9))) {
      const end = scanNumberToken(text, i);
      if (end < 0) continue;
      const token = text.slice(i, end);
      if (!needsExactNumber(token)) {
        i = end - 1; // never rescan a token's inner digits as a token of their own
        continue;
      }
      start = i;
      len = end - i;
      sentinel = NUMBER_SENTINEL + token;
    } else if (special && c === UPPER_N && text.startsWith('NaN', i)) {
      start = i;
      len = 3;
      sentinel = NAN_SENTINEL;
    } else if (special && c === UPPER_I && text.startsWith('Infinity', i)) {
      const negative = i > 0 && text.charCodeAt(i - 1) === MINUS;
      start = negative ? i - 1 : i;
      len = negative ? 9 : 8;
      sentinel = negative ? NEG_INF_SENTINEL : POS_INF_SENTINEL;
    }
    if (start < 0) continue;
    out += text.slice(last, start) + JSON.stringify(sentinel);
    last = start + len;
    i = last - 1;
  }
  return out + text.slice(last);
}

/**
 * Replaces the sentinel strings with their numbers (JsonNumber for number sentinels). An explicit stack instead of a
 * JSON.parse reviver: revivers cost about as much as the parse itself, and recursion
 * would be bounded only by the depth limit.
 */
function restoreSentinels(root: unknown): unknown {
  if (typeof root === 'string') return specialValue(root);
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        if (typeof v === 'string') {
          if (v.charCodeAt(0) === 0) node[i] = specialValue(v);
        } else if (typeof v === 'object' && v !== null) stack.push(v);
      }
      continue;
    }
    const obj = node as Record<string, unknown>;
    for (const key in obj) {
      const v = obj[key];
      if (typeof v === 'string') {
        if (v.charCodeAt(0) === 0) obj[key] = specialValue(v);
      } else if (typeof v === 'object' && v !== null) stack.push(v);
    }
  }
  return root;
}

function specialValue(value: string): unknown {
  if (value === NAN_SENTINEL) return Number.NaN;
  if (value === POS_INF_SENTINEL) return Infinity;
  if (value === NEG_INF_SENTINEL) return -Infinity;
  if (value.startsWith(NUMBER_SENTINEL)) return new JsonNumber(value.slice(NUMBER_SENTINEL.length));
  return value;
}
