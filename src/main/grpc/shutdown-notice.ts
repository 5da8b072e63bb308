/**
 * The first step of an HTTP/2 graceful shutdown (RFC 9113 §6.8), which Node's http2 cannot
 * send: a GOAWAY NO_ERROR with last-stream-id 2^31-1 that tells the peer to open no more
 * streams while every stream already on its way is still served, then a PING whose answer
 * shows that the peer has seen it (it answers after everything it sent before). The final
 * GOAWAY (Node's session.close(), with the last stream id received) can only follow that.
 *
 * Why the frame is written by hand: `session.goaway(NO_ERROR, 2^31-1)` makes nghttp2 record a
 * GOAWAY as sent, after which a session with no open stream no longer wants to read, and Node
 * stops reading its socket: a stream the peer sent meanwhile (a proxy's request crossing the
 * GOAWAY) is never read, and neither is the PING answer. nghttp2's own shutdown notice
 * (nghttp2_submit_shutdown_notice) has no Node binding. So the notice goes straight onto the
 * session's socket (the TLS socket under TLS), between the frames Node writes, and nghttp2
 * keeps accepting streams until the final GOAWAY.
 */

/** GOAWAY (type 7) on stream 0, 8 bytes: last-stream-id 2^31-1, error NO_ERROR (0). */
export const SHUTDOWN_NOTICE_FRAME: Buffer = Buffer.from([
  0x00, 0x00, 0x08, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
]);

/** The parts of a server Http2Session the notice uses. */
export interface NoticeSession {
  readonly closed: boolean;
  ping(callback: (err: Error | null) => void): boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** Where the notice frame is written: the socket Node's session writes to. */
export interface FrameWriter {
  readonly destroyed: boolean;
  write(frame: Buffer): unknown;
}

/**
 * One drain's notice over every session. `start` sends it to the sessions open now; `add`
 * to each session that opens later. The promise of `start` resolves once every noticed
 * session has answered its PING or closed, or after `timeoutMs`, whichever is first.
 */
export class ShutdownNotice {
  readonly #waiting = new Set<NoticeSession>();
  #settle: (() => void) | undefined;

  /** True once `start` was called: sessions opening from now on get the notice too. */
  get started(): boolean {
    return this.#settle !== undefined;
  }

  start(sessions: Iterable<[NoticeSession, FrameWriter | undefined]>, timeoutMs: number): Promise<void> {
    if (this.#settle !== undefined) throw new Error('ShutdownNotice.start called twice');
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#settle?.(), timeoutMs);
      this.#settle = () => {
        clearTimeout(timer);
        resolve();
      };
      for (const [session, writer] of sessions) this.add(session, writer);
      this.#settleIfAnswered();
    });
  }

  /** Sends the notice to `session` (written on `writer`; a PING alone without one). */
  add(session: NoticeSession, writer: FrameWriter | undefined): void {
    if (this.#settle === undefined || session.closed) return;
    this.#waiting.add(session);
    const answered = () => {
      this.#waiting.delete(session);
      this.#settleIfAnswered();
    };
    session.once('close', answered);
    try {
      if (writer !== undefined && !writer.destroyed) writer.write(SHUTDOWN_NOTICE_FRAME);
      if (!session.ping(answered)) answered();
    } catch {
      answered();
    }
  }

  #settleIfAnswered(): void {
    if (this.#waiting.size === 0) this.#settle?.();
  }
}
