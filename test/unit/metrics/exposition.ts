/**
 * A small parser of the Prometheus text exposition format for tests: every sample keyed
 * by `name{label="value",...}` with labels sorted by name, so lookups do not depend on
 * the order the server writes them in.
 */
export type Samples = Map<string, number>;

export function parseExposition(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`unparsable exposition line: ${line}`);
    const labels = m[3] === undefined ? [] : parseLabels(m[3]);
    out.set(sampleKey(m[1], Object.fromEntries(labels)), Number(m[4]));
  }
  return out;
}

function parseLabels(s: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push([m[1], m[2]]);
  return out;
}

export function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/** The sample's value, 0 when absent (a counter never incremented). */
export function value(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples.get(sampleKey(name, labels)) ?? 0;
}

/** Names of every sample family present (histogram series keep their suffixes). */
export function names(samples: Samples): Set<string> {
  return new Set([...samples.keys()].map((k) => k.replace(/\{.*$/, '')));
}
