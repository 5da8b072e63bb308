import net from 'node:net';
import type { RequestSpec } from './scenarios.js';

interface Pending {
  readonly resolve: (status: number) => void;
  readonly reject: (err: Error) => void;
}

/**
 * The lightest closed-loop HTTP/1.1 client for one-connection latency rows: one keep-alive
 * TCP connection (Nagle off), the request bytes serialized once, the response parsed only as
 * far as its status line and Content-Length. So the load generator's own cost per request is
 * a write and a read, not an HTTP client's streams and parser (`fetch` costs about 1 ms more
 * per request than this on the project's box), and what the row shows is the server.
 * One request in flight at a time; answers must carry Content-Length (fastify's do).
 */
export class OneConnection {
  readonly #socket: net.Socket;
  readonly #connected: Promise<void>;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;
  #error: Error | undefined;

  /** `baseUrl`: `http://127.0.0.1:<port>`. */
  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    this.#socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    this.#connected = new Promise((resolve, reject) => {
      this.#socket.once('connect', resolve);
      this.#socket.once('error', reject);
    });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('close', () => this.#fail(new Error('connection closed by the server')));
  }

  /** The bytes of one request to `host` (serialize once, send many times). */
  static serialize(spec: RequestSpec, host: string): Buffer {
    const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive'];
    for (const [k, v] of Object.entries(spec.headers)) lines.push(`${k}: ${v}`);
    lines.push(`content-length: ${spec.body.byteLength}`);
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), spec.body]);
  }

  /** Sends pre-serialized request bytes; resolves with the response's status once its body has arrived. */
  async send(bytes: Buffer): Promise<number> {
    await this.#connected;
    if (this.#error !== undefined) throw this.#error;
    if (this.#pending !== undefined) throw new Error('one request at a time');
    return new Promise<number>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(bytes);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (m === null) {
      this.#fail(new Error(`response without content-length: ${head.slice(0, 200)}`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.#buffer.length < total) return;
    this.#buffer = this.#buffer.subarray(total);
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(status);
  }

  #fail(err: Error): void {
    this.#error ??= err;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(err);
  }
}
