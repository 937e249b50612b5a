// The client's line to ubusd across connections: opens one (up to HELLO),
// notices when it is gone, reconnects with doubling delays, and sends
// requests on whichever connection is current. The request counter lives
// here because libubus never resets it: after a reconnect, seqs continue.

import type { Conn } from '../platform/platform.ts';
import { CLIENT_CLOSED, Connection, defaultTimers, type Timers } from './connection.ts';
import { UbusError } from './errors.ts';
import type { Attrs, Message } from './message.ts';

export const DEFAULT_SOCKET = '/var/run/ubus/ubus.sock';

export interface ClientOptions {
  connect(path: string): Promise<Conn>;
  /** ubusd's socket; default /var/run/ubus/ubus.sock. */
  path?: string;
  /** Default request timeout in ms (the `ubus` CLI's is 30 s). */
  timeout?: number;
  /** Reconnect after ubusd goes away (default true). */
  reconnect?: boolean;
  /** Reconnect delays in ms: doubling from `initial` (100) up to `max` (5000). */
  backoff?: { initial?: number; max?: number };
  timers?: Timers;
  /** Connection changes and errors nobody awaited, for logging. */
  onEvent?(event: ClientEvent): void;
}

export type ClientEvent =
  | { type: 'connected'; id: number }
  | { type: 'disconnected'; error: Error }
  | { type: 'reconnect-failed'; error: unknown; retryIn: number }
  | { type: 'restore-failed'; what: string; error: unknown }
  | { type: 'handler-failed'; where: string; error: unknown };

export interface LinkHooks {
  /** INVOKE, NOTIFY, UNSUBSCRIBE for our objects. */
  onMessage(msg: Message, c: Connection): void;
  /** The connection is gone (before any reconnect attempt). */
  onLost(): void;
  /** A new connection is up after a loss: register things again. */
  onReconnected(c: Connection): Promise<void>;
}

export class Link {
  conn: Connection | undefined;
  closed = false;
  readonly timers: Timers;
  readonly timeout: number;
  private readonly path: string;
  private seq = 0;
  private delay: number;
  private retryTimer: unknown;

  constructor(
    private readonly options: ClientOptions,
    private readonly hooks: LinkHooks,
  ) {
    this.timers = options.timers ?? defaultTimers;
    this.path = options.path ?? DEFAULT_SOCKET;
    this.timeout = options.timeout ?? 30_000;
    this.delay = this.initialDelay;
  }

  /** The live connection, or a CONNECTION_FAILED error saying why there is none. */
  current(op: string): Connection {
    if (!this.closed && this.conn?.alive) return this.conn;

    throw new UbusError('CONNECTION_FAILED', `${op}: ${this.closed ? CLIENT_CLOSED : 'not connected to ubusd'}`, { op });
  }

  /** A request on `on` (default: the current connection). */
  async request(type: number, peer: number, attrs: Attrs, op: string, timeout?: number, onData?: (m: Message) => void, on?: Connection): Promise<Message> {
    const c = on ?? this.current(op);

    return c.request(type, peer, attrs, { op, timeout: timeout ?? this.timeout, ...(onData ? { onData } : {}) });
  }

  emit(event: ClientEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A logging hook must not break the connection.
    }
  }

  close(): void {
    this.closed = true;
    this.timers.clearTimeout(this.retryTimer);
    this.conn?.end(new UbusError('CONNECTION_FAILED', CLIENT_CLOSED));
  }

  async open(): Promise<void> {
    let raw: Conn;

    try {
      raw = await this.options.connect(this.path);
    } catch (e) {
      throw new UbusError('CONNECTION_FAILED', `cannot connect to ubusd at ${this.path}: ${message(e)}`, { cause: e });
    }
    if (this.closed) {
      raw.close();
      throw new UbusError('CONNECTION_FAILED', CLIENT_CLOSED);
    }
    const hooks = {
      timers: this.timers,
      // request_seq is a uint16 that libubus never resets.
      nextSeq: () => (this.seq = (this.seq + 1) & 0xffff),
      onMessage: (msg: Message, c: Connection) => this.hooks.onMessage(msg, c),
      onEnd: (reason: Error, c: Connection) => this.lost(reason, c),
    };
    let c: Connection;

    try {
      c = await Connection.open(raw, hooks, this.timeout);
    } catch (e) {
      if (e instanceof UbusError && e.code === 'CONNECTION_FAILED') throw e;
      throw new UbusError('CONNECTION_FAILED', `no greeting from ubusd at ${this.path}: ${message(e)}`, { cause: e });
    }
    this.conn = c;
    // The stream may have ended between HELLO and here, unseen by lost().
    if (!c.alive) throw new UbusError('CONNECTION_FAILED', 'ubusd closed the connection right after HELLO');
    this.emit({ type: 'connected', id: c.id });
  }

  private get initialDelay(): number {
    return this.options.backoff?.initial ?? 100;
  }

  private lost(reason: Error, c: Connection): void {
    if (c !== this.conn) return;
    this.hooks.onLost();
    if (this.closed) return;
    this.emit({ type: 'disconnected', error: reason });
    if (this.options.reconnect !== false) this.retry();
  }

  private retry(): void {
    const delay = this.delay;

    this.delay = Math.min(delay * 2, this.options.backoff?.max ?? 5000);
    this.retryTimer = this.timers.setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.open();
    } catch (error) {
      if (this.closed) return;
      this.emit({ type: 'reconnect-failed', error, retryIn: this.delay });

      return this.retry();
    }
    this.delay = this.initialDelay;
    await this.hooks.onReconnected(this.conn!);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
