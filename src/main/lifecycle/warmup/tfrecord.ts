import { ServingError } from '../../../core/errors.js';
import { maskedCrc32c } from './crc32c.js';

/**
 * TFRecord framing: each record is `uint64 length` (little-endian), `uint32
 * masked_crc32c(length bytes)`, `length` bytes of data, `uint32 masked_crc32c(data)`.
 */

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;

export interface TfRecordReadOptions {
  /** More records than this is an error (checked before reading further). */
  readonly maxRecords: number;
  /** Names the file in error messages, e.g. `warmup file assets.extra/... of model 'm' version 1`. */
  readonly what: string;
}

/**
 * Splits a TFRecord file into its records' data (views into `bytes`). Every problem (a
 * truncated header or record, a length or data CRC mismatch, too many records) throws a
 * ServingError INVALID_ARGUMENT naming `what` and the 0-based record index; nothing else
 * is ever thrown, whatever the input.
 */
export function readTfRecords(bytes: Uint8Array, options: TfRecordReadOptions): Uint8Array[] {
  const records: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.byteLength) {
    const index = records.length;
    const fail = (problem: string) =>
      new ServingError('INVALID_ARGUMENT', `Corrupt ${options.what}: record ${index}: ${problem}`, {
        permanent: true,
      });
    if (index >= options.maxRecords) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `${capitalize(options.what)} has more than ${options.maxRecords} records (record ${index} is one too many)`,
        { permanent: true },
      );
    }
    if (bytes.byteLength - at < HEADER_BYTES) throw fail('truncated header');
    const low = view.getUint32(at, true);
    const high = view.getUint32(at + 4, true);
    if (maskedCrc32c(bytes.subarray(at, at + 8)) !== view.getUint32(at + 8, true)) {
      throw fail('length CRC mismatch');
    }
    const remaining = bytes.byteLength - at - HEADER_BYTES - FOOTER_BYTES;
    if (high !== 0 || low > remaining)
      throw fail(`length ${high * 2 ** 32 + low} runs past the end of the file`);
    const start = at + HEADER_BYTES;
    const data = bytes.subarray(start, start + low);
    if (maskedCrc32c(data) !== view.getUint32(start + low, true)) throw fail('data CRC mismatch');
    records.push(data);
    at = start + low + FOOTER_BYTES;
  }
  return records;
}

/** Frames records as a TFRecord file (what `make-warmup` writes). */
export function encodeTfRecords(records: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const r of records) total += HEADER_BYTES + r.byteLength + FOOTER_BYTES;
  const out = Buffer.alloc(total);
  let at = 0;
  for (const r of records) {
    out.writeUInt32LE(r.byteLength, at);
    out.writeUInt32LE(0, at + 4);
    out.writeUInt32LE(maskedCrc32c(out.subarray(at, at + 8)), at + 8);
    out.set(r, at + HEADER_BYTES);
    out.writeUInt32LE(maskedCrc32c(r), at + HEADER_BYTES + r.byteLength);
    at += HEADER_BYTES + r.byteLength + FOOTER_BYTES;
  }
  return out;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
