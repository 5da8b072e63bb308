import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { ServingError } from '../../../src/core/errors.js';
import { loadProtos } from '../../../src/main/grpc/grpc-protos.js';

/**
 * fast-check parameters of the codec fuzzers. A fixed seed keeps `npm test` reproducible and
 * bounded (about a second a property); `FUZZ_SEED` and `FUZZ_RUNS` widen a hunt by hand, e.g.
 * `FUZZ_SEED=$RANDOM FUZZ_RUNS=20000 node --test dist/test/unit/fuzz/`.
 */
export function fuzzParams(runs = 300): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED === undefined ? 0x7e5 : Number(process.env.FUZZ_SEED);
  const numRuns = process.env.FUZZ_RUNS === undefined ? runs : Number(process.env.FUZZ_RUNS);
  return { seed, numRuns, endOnFailure: true };
}

/** Codes a codec may refuse input with: client errors, and UNIMPLEMENTED for features it does not carry. */
const CLIENT_CODES = new Set([
  'INVALID_ARGUMENT',
  'FAILED_PRECONDITION',
  'OUT_OF_RANGE',
  'RESOURCE_EXHAUSTED',
  'UNIMPLEMENTED',
]);

/**
 * The codec contract: `decode()` returns, or throws a ServingError with a client code and a
 * non-empty message. Any other exception (TypeError, RangeError, a stack overflow) fails.
 */
export function decodesOrRefuses(decode: () => unknown): void {
  try {
    decode();
  } catch (err) {
    if (!(err instanceof ServingError)) {
      assert.fail(`threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message ?? String(err)}`);
    }
    assert.ok(CLIENT_CODES.has(err.code), `ServingError ${err.code}: ${err.message}`);
    assert.ok(err.message.length > 0);
  }
}

/** Bytes, biased toward the shapes parsers trip on (empty, tiny, structural characters). */
export const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ minLength: 64, maxLength: 2048 }),
  fc.constantFrom(new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0xff, 0xff, 0xff, 0xff])),
);

/** JSON-ish text: valid JSON, valid JSON cut or spliced, and raw strings of JSON's alphabet. */
export const jsonishText = fc.oneof(
  fc.json({ maxDepth: 6 }),
  fc
    .tuple(fc.json({ maxDepth: 6 }), fc.nat(), fc.string({ maxLength: 8 }))
    .map(([j, at, junk]) => j.slice(0, at % (j.length + 1)) + junk + j.slice(at % (j.length + 1))),
  fc.stringMatching(/^[[\]{}",:0-9.eE+\-tfnrulasNIinfy \\]{0,200}$/),
  fc.string({ maxLength: 200 }),
);

/** `valid` with up to `maxEdits` bytes overwritten at arbitrary offsets (a fresh copy each time). */
export function mutated(valid: Uint8Array, maxEdits = 3): fc.Arbitrary<Buffer> {
  return fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: maxEdits }).map((edits) => {
    const copy = Buffer.from(valid);
    for (const [at, v] of edits) if (copy.length > 0) copy[at % copy.length] = v;
    return copy;
  });
}

/** The server-side (de)serializers of one RPC, exactly as grpc-js uses them. */
export function grpcMethod(service: string, name: string): grpc.MethodDefinition<object, object> {
  let node: unknown = loadProtos().grpcObject;
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  return (node as { service: Record<string, grpc.MethodDefinition<object, object>> }).service[name];
}
