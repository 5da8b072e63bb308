/**
 * The protobuf wire format, just enough for the hand-written codecs of the hot gRPC messages
 * (grpc-fast-codec.ts): a reader over one Buffer that yields field tags, varints and
 * length-delimited views (no copy), and a writer that sizes a message first and then fills
 * one Buffer. Anything the fast codecs do not expect throws FALLBACK, and the caller decodes
 * the message with the general (proto-loader) codec instead, so behaviour never differs.
 */

/** Thrown for input the fast path leaves to the general codec. */
export const FALLBACK: unique symbol = Symbol('proto-wire fallback');

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** A cursor over `buf[pos, end)`. */
export class WireReader {
  readonly buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a non-negative safe integer; FALLBACK for larger (or negative) values. */
  varint(): number {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      const b = buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw FALLBACK;
        return result;
      }
      scale *= 128;
    }
    // Eight 7-bit groups are 2^56: anything longer is beyond a safe integer.
    throw FALLBACK;
  }

  /** The next field's tag: `field << 3 | wireType`. */
  tag(): number {
    return this.varint();
  }

  /** The bounds of a length-delimited field's payload; advances past it. */
  lenBounds(): number {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw FALLBACK;
    this.pos = start + len;
    return start;
  }

  /** A length-delimited field as a view over the message buffer (no copy). */
  bytes(): Buffer {
    const start = this.lenBounds();
    return this.buf.subarray(start, this.pos);
  }

  string(): string {
    const start = this.lenBounds();
    return this.buf.toString('utf8', start, this.pos);
  }

  /** A reader over an embedded message; advances this one past it. */
  sub(): WireReader {
    const start = this.lenBounds();
    return new WireReader(this.buf, start, this.pos);
  }

  /** Skips a field of `wireType` (groups fall back). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.lenBounds();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw FALLBACK;
    }
  }

  advance(n: number): void {
    if (n > this.end - this.pos) throw FALLBACK;
    this.pos += n;
  }
}

/** Bytes a varint of the non-negative safe integer `n` takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field with a `len`-byte payload, tag included (fields < 16). */
export function lenFieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Fills one preallocated Buffer front to back. */
export class WireWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(n: number): void {
    const buf = this.buf;
    while (n >= 128) {
      buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[this.pos++] = n;
  }

  /** Tag of a field below 16. */
  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  lenHeader(field: number, len: number): void {
    this.tag(field, WIRE_LEN);
    this.varint(len);
  }

  bytes(field: number, data: Uint8Array): void {
    this.lenHeader(field, data.byteLength);
    this.buf.set(data, this.pos);
    this.pos += data.byteLength;
  }

  /** A string whose UTF-8 length the caller computed (`len`). */
  string(field: number, s: string, len: number): void {
    this.lenHeader(field, len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }
}
