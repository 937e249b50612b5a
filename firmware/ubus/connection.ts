// One live connection to ubusd: waits for HELLO (our client id), cuts the
// byte stream into messages, writes each message whole and in order, and
// matches STATUS/DATA replies to our requests by seq and peer the way
// libubus-req.c does. Everything else goes to the client's onMessage.
// When the stream ends or breaks, every pending request fails with
// CONNECTION_FAILED: none is left waiting silently.

import type { Conn } from '../platform/platform.ts';
import { EncodeError, MalformedError, statusText, UbusError } from './errors.ts';
import { decodeMessage, encodeMessage, FrameReader, MSG, type Attrs, type Message } from './message.ts';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** The reason given when the client itself closes the connection. */
export const CLIENT_CLOSED = 'ubus client closed';

export interface RequestOptions {
  /** Names the request in errors: 'lookup', 'invoke uci get', ... */
  op: string;
  /** Milliseconds until the request fails with TIMEOUT; 0 waits forever. */
  timeout: number;
  onData?: (msg: Message) => void;
  /** A NOTIFY: ubusd answers for the object, then each subscriber does. */
  notify?: { onSubscriberStatus: (id: number, status: number) => void };
}

interface Pending {
  peer: number;
  options: RequestOptions;
  timer: unknown;
  /** For NOTIFY: the peers (object, then subscribers) still to answer. */
  waiting?: Set<number>;
  resolve: (status: Message) => void;
  reject: (error: Error) => void;
}

export interface ConnectionHooks {
  /** INVOKE, NOTIFY, UNSUBSCRIBE... addressed to our objects. */
  onMessage(msg: Message, conn: Connection): void;
  /** Called once when the connection is gone, with why. */
  onEnd(reason: Error, conn: Connection): void;
  timers: Timers;
  /** The shared request counter: libubus keeps it across reconnects. */
  nextSeq(): number;
}

export class Connection {
  /** Our client id, from ubusd's HELLO. */
  id = 0;
  private readonly reader = new FrameReader();
  private readonly pending = new Map<number, Pending>();
  private writing: Promise<void> = Promise.resolve();
  private ended: Error | undefined;
  private hello: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(
    private readonly conn: Conn,
    private readonly hooks: ConnectionHooks,
  ) {}

  /** Starts reading and resolves once ubusd's HELLO arrived. */
  static async open(conn: Conn, hooks: ConnectionHooks, timeout: number): Promise<Connection> {
    const c = new Connection(conn, hooks);
    const greeted = new Promise<void>((resolve, reject) => (c.hello = { resolve, reject }));
    const timer = c.timer(timeout, () => c.end(new UbusError('TIMEOUT', `no HELLO from ubusd within ${timeout} ms`, { op: 'hello' })));

    void c.readLoop();
    try {
      await greeted;
    } finally {
      c.clear(timer);
    }

    return c;
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  /** Sends one message; a write failure ends the connection. */
  send(msg: Message): Promise<void> {
    return this.write(encodeMessage(msg));
  }

  /** Sends a request nobody waits an answer for (it still takes a seq). */
  post(type: number, peer: number, attrs: Attrs): void {
    const msg = encodeMessage({ type, seq: 0, peer, attrs });

    new DataView(msg.buffer, msg.byteOffset).setUint16(2, this.hooks.nextSeq());
    void this.write(msg);
  }

  /** Sends a request and resolves with its STATUS 0 message (DATA replies go
   * to options.onData first); any other status rejects with a UbusError. */
  request(type: number, peer: number, attrs: Attrs, options: RequestOptions): Promise<Message> {
    if (this.ended) return Promise.reject(this.lostError(options.op, this.ended));
    let bytes: Uint8Array;

    try {
      // Checked before a seq is taken, as __ubus_start_request() does.
      bytes = encodeMessage({ type, seq: 0, peer, attrs });
    } catch (e) {
      const message = e instanceof EncodeError ? e.message : String(e);

      return Promise.reject(new UbusError('INVALID_ARGUMENT', `${options.op}: ${message}`, { op: options.op, cause: e }));
    }
    let seq = this.hooks.nextSeq();

    while (this.pending.has(seq)) seq = this.hooks.nextSeq(); // 65536 requests in flight: skip busy seqs
    new DataView(bytes.buffer, bytes.byteOffset).setUint16(2, seq);

    return new Promise<Message>((resolve, reject) => {
      const timer = this.timer(options.timeout, () => {
        this.pending.delete(seq);
        reject(new UbusError('TIMEOUT', `${options.op}: no reply within ${options.timeout} ms`, { op: options.op }));
      });
      const waiting = options.notify ? new Set([peer]) : undefined;

      this.pending.set(seq, { peer, options, timer, resolve, reject, ...(waiting ? { waiting } : {}) });
      void this.write(bytes);
    });
  }

  /** Closes the socket; pending requests fail with `reason`. */
  end(reason: Error): void {
    if (this.ended) return;
    this.ended = reason;
    this.conn.close();
    this.hello?.reject(reason);
    this.hello = undefined;
    for (const [seq, p] of this.pending) {
      this.pending.delete(seq);
      this.clear(p.timer);
      p.reject(this.lostError(p.options.op, reason));
    }
    this.hooks.onEnd(reason, this);
  }

  /** A timeout of 0 (or more than timers can hold) waits forever, as libubus's 0 does. */
  private timer(ms: number, fn: () => void): unknown {
    return ms > 0 && ms <= 0x7fffffff ? this.hooks.timers.setTimeout(fn, ms) : undefined;
  }

  private clear(timer: unknown): void {
    if (timer !== undefined) this.hooks.timers.clearTimeout(timer);
  }

  private lostError(op: string, reason: Error): UbusError {
    const why = reason.message === CLIENT_CLOSED ? CLIENT_CLOSED : `connection to ubusd lost: ${reason.message}`;

    return new UbusError('CONNECTION_FAILED', `${op}: ${why}`, { op, cause: reason });
  }

  private write(bytes: Uint8Array): Promise<void> {
    const done = this.writing.then(() => {
      if (this.ended) throw this.ended;

      return this.conn.write(bytes);
    });

    this.writing = done.catch((e: unknown) => {
      this.end(e instanceof Error ? e : new Error(String(e)));
    });

    return done.catch(() => undefined);
  }

  private async readLoop(): Promise<void> {
    let reason: Error;

    try {
      for (;;) {
        for (let frame = this.reader.next(); frame && !this.ended; frame = this.reader.next()) this.receive(decodeMessage(frame));
        if (this.ended) return;
        const chunk = await this.conn.read();

        if (chunk === null) {
          const left = this.reader.buffered;

          reason = new UbusError('CONNECTION_FAILED', left ? `ubusd closed the connection inside a message (${left} bytes unread)` : 'ubusd closed the connection');
          break;
        }
        this.reader.push(chunk);
      }
    } catch (e) {
      reason = e instanceof MalformedError ? new MalformedError(`malformed message from ubusd: ${e.message}`) : e instanceof Error ? e : new Error(String(e));
    }
    this.end(reason);
  }

  private receive(msg: Message): void {
    if (this.hello) {
      // ubus_reconnect(): the first message must be HELLO with a client id > 1.
      if (msg.type !== MSG.HELLO || msg.peer <= 1) throw new MalformedError(`expected HELLO with a client id, got message type ${msg.type} peer ${msg.peer}`);
      this.id = msg.peer;
      this.hello.resolve();
      this.hello = undefined;

      return;
    }
    if (msg.type === MSG.STATUS || msg.type === MSG.DATA) this.reply(msg);
    else this.hooks.onMessage(msg, this);
  }

  /** ubus_process_req_msg(): find the request by seq, then by peer. */
  private reply(msg: Message): void {
    const p = this.pending.get(msg.seq);

    if (!p) return;
    if (p.waiting ? !p.waiting.has(msg.peer) : p.peer !== msg.peer) return;
    if (msg.type === MSG.DATA) {
      if (!p.waiting) p.options.onData?.(msg);

      return;
    }
    // A STATUS without its attribute counts as INVALID_ARGUMENT, as in libubus.
    const status = msg.attrs.status ?? 2;

    if (p.waiting) {
      p.waiting.delete(msg.peer);
      if (msg.peer === p.peer) {
        if (status !== 0) return this.finish(msg, p, status);
        for (const id of msg.attrs.subscribers ?? []) p.waiting.add(id);
      } else p.options.notify!.onSubscriberStatus(msg.peer, status);
      if (p.waiting.size === 0) this.finish(msg, p, 0);

      return;
    }
    this.finish(msg, p, status);
  }

  private finish(msg: Message, p: Pending, status: number): void {
    this.pending.delete(msg.seq);
    this.clear(p.timer);
    if (status === 0) p.resolve(msg);
    else p.reject(new UbusError(status, `${p.options.op}: ${statusText(status)}`, { op: p.options.op }));
  }
}
