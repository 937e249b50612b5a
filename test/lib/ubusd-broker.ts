// ubusd's part for the daemon's tests, where no real ubusd runs: a unix
// socket that greets each client with HELLO, registers objects (ADD_OBJECT),
// answers LOOKUP, takes events (INVOKE of object 1, method "send"), and
// routes an INVOKE from one client to the object's owner and the owner's
// DATA / STATUS back, rewriting header peers and adding USER/GROUP exactly
// as the recorded ubusd transcripts show (../shared/fixtures/ubus
// c_publish_invoke, b2_call_errors, d_event). Anything else gets STATUS 0.

import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

import { decodeMessage, encodeMessage, FrameReader, MSG, type Attrs, type Message } from '../../firmware/ubus/message.ts';
import { toTable, type Table } from '../../firmware/ubus/value.ts';

interface Client {
  id: number;
  socket: Socket;
}

interface Obj {
  id: number;
  type: number;
  path: string;
  owner: Client;
  signature: Attrs['signature'];
}

export interface BusEvent {
  name: string;
  data: Table;
}

const NOT_FOUND = 4;

export class Broker {
  readonly objects = new Map<number, Obj>();
  readonly events: BusEvent[] = [];
  private readonly clients = new Set<Client>();
  /** (owner id, seq, caller id) → caller, for routing replies. */
  private readonly pending = new Map<string, Client>();
  private server: Server | undefined;
  private nextId = 0x1000;
  private waiters: (() => void)[] = [];

  constructor(readonly path: string) {}

  start(): Promise<void> {
    rmSync(this.path, { force: true });
    this.server = createServer((socket) => this.accept(socket));

    return new Promise((resolve) => this.server!.listen(this.path, resolve));
  }

  /** ubusd goes away: every client connection drops, the socket disappears. */
  async stop(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    this.clients.clear();
    this.objects.clear();
    await new Promise((resolve) => this.server?.close(resolve));
    rmSync(this.path, { force: true });
  }

  /** Resolves when `check` holds, re-checked after every message. */
  async until<T>(check: () => T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + ms;

    for (;;) {
      const value = check();

      if (value) return value;
      if (Date.now() > deadline) throw new Error(`broker: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);

        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  object(path: string): Obj | undefined {
    return [...this.objects.values()].find((o) => o.path === path);
  }

  private send(c: Client, type: number, seq: number, peer: number, attrs: Attrs): void {
    c.socket.write(encodeMessage({ type, seq, peer, attrs }));
  }

  private accept(socket: Socket): void {
    const client: Client = { id: this.nextId++, socket };
    const frames = new FrameReader();

    this.clients.add(client);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.clients.delete(client);
      for (const [id, o] of this.objects) if (o.owner === client) this.objects.delete(id);
    });
    socket.on('data', (chunk: Buffer) => {
      frames.push(new Uint8Array(chunk));
      for (let frame = frames.next(); frame; frame = frames.next()) this.handle(client, decodeMessage(frame));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.send(client, MSG.HELLO, 0, client.id, {});
  }

  private handle(c: Client, msg: Message): void {
    const { seq, attrs } = msg;

    switch (msg.type) {
      case MSG.ADD_OBJECT: {
        const obj: Obj = { id: this.nextId++, type: this.nextId++, path: attrs.objpath ?? '', owner: c, signature: attrs.signature };

        this.objects.set(obj.id, obj);
        this.send(c, MSG.DATA, seq, 0, { objid: obj.id, objtype: obj.type });

        return this.send(c, MSG.STATUS, seq, 0, { status: 0 });
      }
      case MSG.LOOKUP: {
        const found = [...this.objects.values()].filter((o) => o.path && (attrs.objpath === undefined || o.path === attrs.objpath));

        for (const o of found) this.send(c, MSG.DATA, seq, 0, { objpath: o.path, objid: o.id, objtype: o.type, signature: o.signature ?? [] });

        return this.send(c, MSG.STATUS, seq, 0, { status: found.length ? 0 : NOT_FOUND });
      }
      case MSG.INVOKE: {
        if (attrs.objid === 1) {
          const data = toTable(attrs.data ?? []);

          this.events.push({ name: String(data.id), data: (data.data ?? {}) as Table });

          return this.send(c, MSG.STATUS, seq, msg.peer, { status: 0 });
        }

        const obj = this.objects.get(attrs.objid ?? 0);

        if (!obj) return this.send(c, MSG.STATUS, seq, msg.peer, { status: NOT_FOUND });
        this.pending.set(`${obj.owner.id}/${seq}/${c.id}`, c);

        return this.send(obj.owner, MSG.INVOKE, seq, c.id, { objid: obj.id, method: attrs.method, user: 'root', group: 'root', data: attrs.data ?? [] });
      }
      case MSG.DATA:
      case MSG.STATUS: {
        const caller = this.pending.get(`${c.id}/${seq}/${msg.peer}`);

        if (!caller) return;
        if (msg.type === MSG.STATUS) this.pending.delete(`${c.id}/${seq}/${msg.peer}`);

        return this.send(caller, msg.type, seq, attrs.objid ?? 0, attrs);
      }
      default:
        return this.send(c, MSG.STATUS, seq, 0, { status: 0 });
    }
  }
}
