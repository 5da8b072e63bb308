import { ServingError } from '../../core/errors.js';

/** Limits applied to a JSON request body before it is parsed. */
export interface JsonBodyLimits {
  /** Deepest allowed nesting of arrays and objects (the top-level value is depth 1). */
  readonly maxDepth: number;
}

// Sentinels stand in for the non-standard tokens during JSON.parse. A client string equal
// to one of them would be read as the number; the NUL bytes make that practically impossible.
const NAN_SENTINEL = '\u0000tensorserve:NaN\u0000';
const POS_INF_SENTINEL = '\u0000tensorserve:+Infinity\u0000';
const NEG_INF_SENTINEL = '\u0000tensorserve:-Infinity\u0000';

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const UPPER_N = 78;
const UPPER_I = 73;

/**
 * Parses a REST request body the way TF Serving does: standard JSON plus the bare tokens
 * `NaN`, `Infinity` and `-Infinity` (outside strings). Nesting deeper than
 * `limits.maxDepth` is rejected by a linear, non-recursive scan before anything is parsed,
 * so a hostile body cannot exhaust the stack here or in the decoders that walk the result.
 *
 * Standard bodies go straight to `JSON.parse` after the scan; only bodies containing the
 * non-standard tokens pay for a rewrite and a reviver.
 *
 * Throws ServingError INVALID_ARGUMENT for malformed JSON (`JSON Parse error: ...`, with
 * the parser's position message) and for bodies over the depth limit.
 */
export function parseJsonBody(text: string, limits: JsonBodyLimits): unknown {
  const hasSpecialTokens = scanDepth(text, limits.maxDepth);
  try {
    if (!hasSpecialTokens) return JSON.parse(text);
    return restoreSpecialTokens(JSON.parse(rewriteSpecialTokens(text)));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ServingError('INVALID_ARGUMENT', `JSON Parse error: ${detail}`, { cause: err });
  }
}

/**
 * Counts bracket depth outside strings and reports whether an `N` or `I` occurs outside
 * strings (no standard JSON token contains those letters, so their presence is the only
 * case that needs the slow path). Throws when the depth exceeds `maxDepth`.
 */
function scanDepth(text: string, maxDepth: number): boolean {
  let depth = 0;
  let special = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // Digits, signs, dots, commas, colons and whitespace are all below 'A': one compare.
    if (c < 65) {
      if (c === QUOTE) i = endOfString(text, i);
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) {
        throw new ServingError(
          'INVALID_ARGUMENT',
          `JSON Parse error: nesting depth exceeds the limit of ${maxDepth} at offset ${i}`,
        );
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    } else if (c === UPPER_N || c === UPPER_I) {
      special = true;
    }
  }
  return special;
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

/** Replaces NaN / Infinity / -Infinity tokens outside strings with sentinel strings. */
function rewriteSpecialTokens(text: string): string {
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
    if (c === UPPER_N && text.startsWith('NaN', i)) {
      start = i;
      len = 3;
      sentinel = NAN_SENTINEL;
    } else if (c === UPPER_I && text.startsWith('Infinity', i)) {
      const negative = i > 0 && text.charCodeAt(i - 1) === 45; // '-'
      start = negative ? i - 1 : i;
      len = negative ? 9 : 8;
      sentinel = negative ? NEG_INF_SENTINEL : POS_INF_SENTINEL;
    }
    if (start < 0) continue;
    // Anything else is left in place for JSON.parse to reject with its own message.
    out += text.slice(last, start) + JSON.stringify(sentinel);
    last = start + len;
    i = last - 1;
  }
  return out + text.slice(last);
}

/**
 * Replaces the sentinel strings with their numbers. An explicit stack instead of a
 * JSON.parse reviver: revivers cost about as much as the parse itself, and recursion
 * would be bounded only by the depth limit.
 */
function restoreSpecialTokens(root: unknown): unknown {
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
  return value;
}
