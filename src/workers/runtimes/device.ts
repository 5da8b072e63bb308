import { ServingError } from '../../core/errors.js';

/** A parsed device name: `cpu` or `cuda:N`. */
export type Device = { readonly kind: 'cpu' } | { readonly kind: 'cuda'; readonly index: number };

/** Parses LoadOptions.device. Throws ServingError INVALID_ARGUMENT for any other spelling. */
export function parseDevice(name: string): Device {
  if (name === 'cpu') return { kind: 'cpu' };
  const m = /^cuda:(\d+)$/.exec(name);
  if (m) return { kind: 'cuda', index: Number(m[1]) };
  throw new ServingError('INVALID_ARGUMENT', `Unknown device '${name}': expected 'cpu' or 'cuda:N'`);
}
