/**
 * Longest string value a log line carries for any one field. Client-supplied values (model
 * names, URLs, signature names, messages quoting input) reach the logs; without a cap one
 * request can write a megabyte line. Matches the client message cap (MAX_CLIENT_MESSAGE).
 */
export const MAX_LOGGED_STRING = 1024;

/** How deep `capLogFields` looks into nested objects (pino's own objects are shallow). */
const MAX_DEPTH = 4;

/** `s` cut to `max` characters, saying how much was cut. */
export function capString(s: string, max = MAX_LOGGED_STRING): string {
  return s.length <= max ? s : `${s.slice(0, max)}...[${s.length - max} more chars]`;
}

/**
 * The log object with every string value capped at MAX_LOGGED_STRING, walking plain objects,
 * arrays and errors a few levels deep. Returns the same object when nothing needs cutting (the
 * common case costs one walk and no allocation). Errors keep their type; an error whose
 * message or stack is cut becomes a plain `{type, message, stack}` object.
 */
export function capLogFields<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return capString(value) as T;
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (value instanceof Error) {
    const message = capString(value.message);
    const stack = value.stack === undefined ? undefined : capString(value.stack, 8 * MAX_LOGGED_STRING);
    if (message === value.message && stack === value.stack) return value;
    return { type: value.name, message, stack } as T;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const capped = capLogFields(value[i], depth + 1);
      if (capped !== value[i]) {
        out ??= [...value];
        out[i] = capped;
      }
    }
    return (out ?? value) as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const capped = capLogFields(v, depth + 1);
    if (capped !== v) {
      if (out === undefined) out = { ...(value as Record<string, unknown>) };
      out[k] = capped;
    }
  }
  return (out ?? value) as T;
}
