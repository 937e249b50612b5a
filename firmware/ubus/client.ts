// The ubus client: list, call, events, subscribe/notify and publishing, sent
// exactly as libubus sends them (same messages, attributes, order and seq
// numbering). It needs only a way to open a stream (`connect(path)`) and
// timers, so it runs on any runtime. When ubusd goes away, pending requests
// fail with CONNECTION_FAILED (connection.ts), the link reconnects (link.ts)
// and the client registers its objects, listeners and subscriptions again.

import type { Field } from './blobmsg.ts';
import type { Connection } from './connection.ts';
import { UbusError } from './errors.ts';
import { Link, type ClientOptions } from './link.ts';
import { EVENT_OBJECT, MSG, type Attrs, type Message } from './message.ts';
import { dispatch, signatureOf, type EventHandler, type LocalObject, type MethodSpec, type NotificationHandler, type PublishedObject } from './objects.ts';
import { fromTable, setEntry, toTable, type Table } from './value.ts';

export { DEFAULT_SOCKET, type ClientEvent, type ClientOptions } from './link.ts';
export type { ArgType, EventHandler, MethodHandler, MethodSpec, Notification, NotificationHandler, PublishedObject, Request, UbusEvent } from './objects.ts';

export interface CallOptions {
  /** Milliseconds; default the client's timeout; 0 waits forever. */
  timeout?: number;
}

export interface ObjectInfo {
  path: string;
  id: number;
  typeId: number;
  /** Method name -> argument name -> blobmsg type code (3 string, 5 int32...). */
  methods: Record<string, Record<string, number>>;
  /** The signature as sent, for exact printing. */
  signature: Field[];
}

export interface Listener {
  readonly pattern: string;
  remove(): Promise<void>;
}

export interface Subscription {
  readonly path: string;
  /** The subscribed object's id; 0 while not subscribed. */
  readonly target: number;
  remove(): Promise<void>;
}

/** Something we put on the bus, kept so a reconnect can put it there again. */
interface Registration {
  local: LocalObject;
  id: number;
  removed: boolean;
  /** Registers it on a live connection (first, and after each reconnect). */
  register(c: Connection): Promise<void>;
}

/** Connects (once: a failure here is thrown, not retried) and says HELLO. */
export async function connect(options: ClientOptions): Promise<UbusClient> {
  const client = new UbusClient(options);

  await client.link.open();

  return client;
}

export class UbusClient {
  readonly link: Link;
  private readonly registrations: Registration[] = [];
  /** Our objects on the current connection, by id. */
  private readonly live = new Map<number, LocalObject>();

  constructor(options: ClientOptions) {
    this.link = new Link(options, {
      onMessage: (msg, c) => dispatch(msg, this.live, c, (error, where) => this.link.emit({ type: 'handler-failed', where, error })),
      onLost: () => {
        this.live.clear();
        for (const reg of this.registrations) reg.id = 0;
      },
      onReconnected: (c) => this.restore(c),
    });
  }

  /** Our client id (from HELLO); 0 while disconnected. */
  get id(): number {
    return this.connected ? this.link.conn!.id : 0;
  }

  get connected(): boolean {
    return !this.link.closed && (this.link.conn?.alive ?? false);
  }

  /** `ubus list [pattern]`: objects named `pattern`, starting with it if it
   * ends in "*", or all. NOT_FOUND when none match. */
  async list(pattern?: string, options: CallOptions = {}): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];

    await this.link.request(MSG.LOOKUP, 0, pattern === undefined ? {} : { objpath: pattern }, `lookup ${pattern ?? '*'}`, options.timeout, (msg) => {
      const { objid, objpath, objtype, signature = [] } = msg.attrs;

      // ubus_lookup_cb() skips entries without id, path or type.
      if (objid !== undefined && objpath !== undefined && objtype !== undefined) found.push(objectInfo(objpath, objid, objtype, signature));
    });

    return found;
  }

  /** An object's id by path, as ubus_lookup_id() gets it. */
  lookupId(path: string, options: CallOptions = {}, on?: Connection): Promise<number> {
    let id: number | undefined;
    const op = `lookup ${path}`;

    return this.link.request(MSG.LOOKUP, 0, { objpath: path }, op, options.timeout, (msg) => (id = msg.attrs.objid ?? id), on).then(() => {
      if (id === undefined) throw new UbusError('NOT_FOUND', `${op}: ubusd sent no object id`, { op });

      return id;
    });
  }

  /** `ubus call`: looks the object up, invokes the method, returns its data
   * (undefined if it sent none). A failure status rejects with a UbusError
   * whose `data` holds any data that came before it. */
  async call(object: string, method: string, args: Table = {}, options: CallOptions = {}): Promise<Table | undefined> {
    const fields = await this.invokeAs(object, await this.lookupId(object, options), method, args, options);

    return fields && toTable(fields);
  }

  /** Invokes a method by object id; resolves with the last DATA reply's
   * fields exactly as sent (undefined if none came). */
  invoke(objectId: number, method: string, args: Table | Field[] = {}, options: CallOptions = {}): Promise<Field[] | undefined> {
    return this.invokeAs(hex(objectId), objectId, method, args, options);
  }

  /** A round trip through ubusd (PING, answered with DATA and STATUS). */
  async ping(options: CallOptions = {}): Promise<void> {
    await this.link.request(MSG.PING, 0, {}, 'ping', options.timeout);
  }

  /** `ubus send`: an event to every listener whose pattern matches. */
  async send(event: string, data: Table = {}, options: CallOptions = {}): Promise<void> {
    const fields: Field[] = [
      { name: 'id', type: 'string', value: event },
      { name: 'data', type: 'table', value: fromTable(data) },
    ];

    await this.link.request(MSG.INVOKE, EVENT_OBJECT, { objid: EVENT_OBJECT, method: 'send', data: fields }, `send ${event}`, options.timeout);
  }

  /** `ubus listen`: events whose name matches `pattern` ("name" or "prefix*"). */
  async listen(pattern: string, handler: EventHandler): Promise<Listener> {
    const op = `listen ${pattern}`;
    const reg = this.registration({ kind: 'listener', pattern, handler }, async (c, r) => {
      // ubus_register_event_handler(): an object without name or type, then
      // "register" on ubusd's event object with its id and the pattern.
      await this.addObject(c, r, {}, op);
      const data: Field[] = [
        { name: 'object', type: 'int32', value: r.id },
        { name: 'pattern', type: 'string', value: pattern },
      ];

      await this.link.request(MSG.INVOKE, EVENT_OBJECT, { objid: EVENT_OBJECT, method: 'register', data }, op, undefined, undefined, c);
    });

    await this.add(reg, op);

    return { pattern, remove: () => this.removeRegistration(reg) };
  }

  /** `ubus subscribe`: notifications the object at `path` sends. `onRemoved`
   * hears when the object goes away or cannot be subscribed after a reconnect. */
  async subscribe(path: string, handler: NotificationHandler, options: { onRemoved?: () => void } = {}): Promise<Subscription> {
    const op = `subscribe ${path}`;
    let target = 0;
    const local: LocalObject = {
      kind: 'subscriber',
      path,
      handler,
      onRemoved: () => {
        target = 0;
        options.onRemoved?.();
      },
    };
    const reg = this.registration(local, async (c, r) => {
      target = 0;
      await this.addObject(c, r, {}, op);
      const id = await this.lookupId(path, {}, c);

      await this.link.request(MSG.SUBSCRIBE, 0, { objid: r.id, target: id }, op, undefined, undefined, c);
      target = id;
    });

    await this.add(reg, op);

    return {
      path,
      get target() {
        return target;
      },
      remove: async () => {
        const c = this.link.conn;

        if (target && c?.alive && !reg.removed) await this.link.request(MSG.UNSUBSCRIBE, 0, { objid: reg.id, target }, `unsubscribe ${path}`, undefined, undefined, c);
        await this.removeRegistration(reg);
      },
    };
  }

  /** Publishes an object whose method handlers answer invocations. */
  async publish(name: string, methods: Record<string, MethodSpec>, options: { onSubscribers?: (active: boolean) => void } = {}): Promise<PublishedObject> {
    const op = `publish ${name}`;
    let active = false;
    const signature = signatureOf(methods);
    const self: PublishedObject = {
      name,
      get id() {
        return reg.id;
      },
      get hasSubscribers() {
        return active;
      },
      notify: (type, data = {}, opts = {}) => this.notify(reg, name, type, data, opts),
      remove: () => this.removeRegistration(reg),
    };
    const local: LocalObject = {
      kind: 'object',
      name,
      methods,
      self,
      onActive: (a) => {
        active = a;
        options.onSubscribers?.(a);
      },
    };
    // Type ids are forgotten on reconnect (ubus_refresh_state), so the
    // signature is always sent, never an OBJTYPE.
    const reg = this.registration(local, async (c, r) => {
      active = false;
      await this.addObject(c, r, { objpath: name, signature }, op);
    });

    await this.add(reg, op);

    return self;
  }

  /** Closes the connection for good; pending requests fail. */
  close(): void {
    this.link.close();
  }

  // --- requests -----------------------------------------------------------

  private async invokeAs(label: string, objectId: number, method: string, args: Table | Field[], options: CallOptions): Promise<Field[] | undefined> {
    let reply: Field[] | undefined;
    const op = `invoke ${label} ${method}`;
    const data = Array.isArray(args) ? args : fromTable(args);

    try {
      await this.link.request(MSG.INVOKE, objectId, { objid: objectId, method, data }, op, options.timeout, (msg) => (reply = msg.attrs.data ?? reply));
    } catch (e) {
      if (e instanceof UbusError && reply) throw new UbusError(e.status, e.message, { op, data: toTable(reply), cause: e });
      throw e;
    }

    return reply;
  }

  /** ubus_notify(): NOTIFY to our own object; ubusd answers with the list of
   * subscribers, then each subscriber's status arrives. */
  private async notify(reg: Registration, name: string, type: string, data: Table, opts: CallOptions & { reply?: boolean }): Promise<{ id: number; status: number }[]> {
    const op = `notify ${name} ${type}`;
    const c = this.link.current(op);
    const attrs: Attrs = { objid: reg.id, method: type, data: fromTable(data) };
    const statuses: { id: number; status: number }[] = [];

    if (opts.reply === false) {
      // ubus_notify(timeout < 0): NO_REPLY, and nobody waits.
      c.post(MSG.NOTIFY, reg.id, { ...attrs, noReply: 1 });

      return statuses;
    }
    await c.request(MSG.NOTIFY, reg.id, attrs, {
      op,
      timeout: opts.timeout ?? this.link.timeout,
      notify: { onSubscriberStatus: (id, status) => statuses.push({ id, status }) },
    });

    return statuses;
  }

  // --- our objects ----------------------------------------------------------

  private registration(local: LocalObject, register: (c: Connection, r: Registration) => Promise<void>): Registration {
    const reg: Registration = { local, id: 0, removed: false, register: (c) => register(c, reg) };

    return reg;
  }

  /** ADD_OBJECT. The object is live as soon as the DATA reply names its id
   * (as in ubus_add_object_cb): what ubusd sends it next may be in the same read. */
  private async addObject(c: Connection, reg: Registration, attrs: Attrs, op: string): Promise<void> {
    const onData = (msg: Message) => {
      if (msg.attrs.objid === undefined) return;
      this.live.delete(reg.id);
      reg.id = msg.attrs.objid;
      this.live.set(reg.id, reg.local);
    };

    await this.link.request(MSG.ADD_OBJECT, 0, attrs, op, undefined, onData, c);
    if (!reg.id) throw new UbusError('NO_DATA', `${op}: ubusd sent no object id`, { op });
  }

  private async add(reg: Registration, op: string): Promise<void> {
    const c = this.link.current(op);

    try {
      await reg.register(c);
    } catch (e) {
      await this.dropObject(reg, c);
      throw e;
    }
    this.registrations.push(reg);
  }

  private async removeRegistration(reg: Registration): Promise<void> {
    if (reg.removed) return;
    reg.removed = true;
    this.registrations.splice(this.registrations.indexOf(reg), 1);
    const c = this.link.conn;

    if (c?.alive && reg.id) await this.dropObject(reg, c, true);
  }

  /** REMOVE_OBJECT; quietly when cleaning up after a failed registration. */
  private async dropObject(reg: Registration, c: Connection, loud = false): Promise<void> {
    if (!reg.id) return;
    const id = reg.id;

    reg.id = 0;
    this.live.delete(id);
    const removing = this.link.request(MSG.REMOVE_OBJECT, 0, { objid: id }, `remove object ${hex(id)}`, undefined, undefined, c);

    if (loud) await removing;
    else await removing.catch(() => undefined);
  }

  /** After a reconnect, in registration order as ubus_refresh_state() re-adds
   * objects; unlike libubus, event patterns and subscriptions come back too. */
  private async restore(c: Connection): Promise<void> {
    for (const reg of [...this.registrations]) {
      if (!c.alive) return;
      if (reg.removed) continue;
      try {
        await reg.register(c);
      } catch (error) {
        this.link.emit({ type: 'restore-failed', what: describe(reg.local), error });
        if (reg.local.kind === 'subscriber') reg.local.onRemoved(0);
      }
    }
  }
}

function objectInfo(path: string, id: number, typeId: number, signature: Field[]): ObjectInfo {
  const methods: Table = {};

  for (const m of signature) {
    const args: Table = {};

    if (m.type === 'table') for (const a of m.value) if (a.type === 'int32') setEntry(args, a.name, a.value);
    setEntry(methods, m.name, args);
  }

  return { path, id, typeId, methods: methods as ObjectInfo['methods'], signature };
}

function describe(local: LocalObject): string {
  return local.kind === 'object' ? `object ${local.name}` : local.kind === 'listener' ? `listener ${local.pattern}` : `subscription ${local.path}`;
}

function hex(id: number): string {
  return '@' + id.toString(16).padStart(8, '0');
}
