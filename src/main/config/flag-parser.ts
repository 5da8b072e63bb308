import { ConfigError } from './config-error.js';
import { FLAGS_BY_NAME, type FlagSpec } from './flag-table.js';

export type FlagValue = string | number | boolean;

/** Parsed flags: canonical flag name → value, in the order given (a repeated flag: the last wins). */
export type FlagValues = ReadonlyMap<string, FlagValue>;

const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false };

/**
 * Parses argv (without node and script) against FLAG_TABLE, as TF Serving does:
 * `--name=value` or `--name value` (one or two leading dashes); a boolean alone means true
 * and also takes `=true|false|1|0` (or `true`/`false` as the next word). Aliases are stored
 * under their flag's name. Throws ConfigError naming the flag: unknown (with the closest
 * known flag), missing value, wrong type, below its minimum; or an unexpected argument.
 */
export function parseFlagValues(argv: readonly string[]): FlagValues {
  const values = new Map<string, FlagValue>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (m === null || arg === '-' || arg === '--') {
      throw new ConfigError('flags', [`unexpected argument '${arg}' (flags are --name=value)`]);
    }
    const name = m[1] === 'h' ? 'help' : m[1];
    const spec = FLAGS_BY_NAME.get(name);
    if (spec === undefined) throw unknownFlag(name);
    let text = m[2];
    if (spec.kind === 'bool') {
      const next = argv[i + 1];
      if (text === undefined && next !== undefined && (next === 'true' || next === 'false')) {
        text = next;
        i++;
      }
      const b = text === undefined ? true : BOOLEAN_TEXT[text.toLowerCase()];
      if (b === undefined) throw flagError(name, 'must be true or false');
      values.set(spec.name, b);
      continue;
    }
    if (text === undefined) {
      text = argv[i + 1];
      if (text === undefined) throw flagError(name, 'needs a value');
      i++;
    }
    values.set(spec.name, convert(spec, name, text));
  }
  return values;
}

function convert(spec: FlagSpec, given: string, text: string): FlagValue {
  if (spec.kind === 'string') return text;
  const n = text.trim() === '' ? Number.NaN : Number(text);
  const min = spec.min ?? Number.NEGATIVE_INFINITY;
  if (spec.kind === 'int' && (!Number.isInteger(n) || n < min)) {
    throw flagError(given, `must be an integer >= ${min}`);
  }
  if (spec.kind === 'number' && (!Number.isFinite(n) || n < min)) {
    throw flagError(given, `must be a number >= ${min}`);
  }
  return n;
}

function flagError(name: string, rule: string): ConfigError {
  return new ConfigError('flags', [`--${name} ${rule}`]);
}

function unknownFlag(name: string): ConfigError {
  const closest = closestFlag(name);
  return new ConfigError('flags', [
    `unknown flag --${name}; the closest known flag is --${closest} (--help lists them)`,
  ]);
}

/** The known flag name (or alias) nearest to `name`: edit distance, less half the length of words in common. */
export function closestFlag(name: string): string {
  let best = '';
  let bestDistance = Number.POSITIVE_INFINITY;
  const words = new Set(name.split('_'));
  for (const known of FLAGS_BY_NAME.keys()) {
    // Words in common take off half their length: `rest_port` is nearer `rest_api_port` than `grpc_port`.
    let shared = 0;
    for (const w of known.split('_')) if (words.has(w)) shared += w.length;
    const d = editDistance(name, known) - shared / 2;
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute: cost 1 each). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
