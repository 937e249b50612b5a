// Our own objects on the bus and what ubusd sends to them, handled as
// libubus-obj.c does: an INVOKE runs a method handler (or an event listener,
// or a subscriber's notification handler) and is answered with DATA, if the
// handler returned data, then STATUS; NOTIFY tells a published object whether
// it has subscribers; UNSUBSCRIBE tells a subscriber its target went away.

import { typeCode, type BlobmsgType, type Field } from './blobmsg.ts';
import type { Connection } from './connection.ts';
import { EncodeError, statusCode, UbusError } from './errors.ts';
import { MSG, type Message } from './message.ts';
import { fromTable, isTable, toTable, type Table } from './value.ts';

export interface Request {
  object: string;
  method: string;
  args: Table;
  /** The arguments exactly as received. */
  fields: Field[];
  /** The calling client's id. */
  peer: number;
  user?: string;
  group?: string;
}

/** Returns the reply data, if any. Throw a UbusError to answer with its
 * status (and its `data`, if a table, as a DATA reply before it). `self` is
 * the object invoked, e.g. to notify its subscribers. */
export type MethodHandler = (req: Request, self: PublishedObject) => Table | void | Promise<Table | void>;

export interface PublishedObject {
  readonly name: string;
  /** Changes on every reconnect; 0 while disconnected. */
  readonly id: number;
  readonly hasSubscribers: boolean;
  /** Sends a notification to the subscribers; resolves with each one's status.
   * With reply false it does not wait (NO_REPLY) and resolves with []. */
  notify(type: string, data?: Table, options?: { timeout?: number; reply?: boolean }): Promise<{ id: number; status: number }[]>;
  remove(): Promise<void>;
}

/** A blobmsg type; 'boolean' is int8 (BLOBMSG_TYPE_BOOL). */
export type ArgType = BlobmsgType | 'boolean';

export interface MethodSpec {
  /** Argument names and types, announced in the object's signature
   * (what `ubus -v list` shows; ubusd does not enforce them). */
  args?: Record<string, ArgType>;
  handler: MethodHandler;
}

export interface UbusEvent {
  name: string;
  data: Table;
  fields: Field[];
}

export type EventHandler = (event: UbusEvent) => void | Promise<void>;

export interface Notification {
  type: string;
  data: Table;
  fields: Field[];
}

export type NotificationHandler = (n: Notification) => Table | void | Promise<Table | void>;

export type LocalObject =
  | { kind: 'object'; name: string; methods: Record<string, MethodSpec>; self: PublishedObject; onActive(active: boolean): void }
  | { kind: 'listener'; pattern: string; handler: EventHandler }
  | { kind: 'subscriber'; path: string; handler: NotificationHandler; onRemoved(target: number): void };

export type Report = (error: unknown, where: string) => void;

/** UBUS_ATTR_SIGNATURE for methods: a table per method of {arg: type code}. */
export function signatureOf(methods: Record<string, MethodSpec>): Field[] {
  return Object.entries(methods).map(([name, spec]) => ({
    name,
    type: 'table',
    value: Object.entries(spec.args ?? {}).map(([arg, type]) => {
      const code = typeCode(type === 'boolean' ? 'int8' : type);

      if (code < 0) throw new EncodeError(`method ${name}: argument ${arg} has unknown type ${String(type)}`);

      return { name: arg, type: 'int32', value: code } satisfies Field;
    }),
  }));
}

export function dispatch(msg: Message, objects: ReadonlyMap<number, LocalObject>, conn: Connection, report: Report): void {
  const { objid } = msg.attrs;

  if (objid === undefined) return;
  const obj = objects.get(objid);

  if (msg.type === MSG.INVOKE) invoke(msg, objid, obj, conn, report);
  else if (msg.type === MSG.NOTIFY && obj?.kind === 'object' && msg.attrs.active !== undefined) obj.onActive(msg.attrs.active !== 0);
  else if (msg.type === MSG.UNSUBSCRIBE && obj?.kind === 'subscriber' && msg.attrs.target !== undefined) obj.onRemoved(msg.attrs.target);
}

function invoke(msg: Message, objid: number, obj: LocalObject | undefined, conn: Connection, report: Report): void {
  const { method, data, user, group } = msg.attrs;

  // libubus answers these before it has taken seq and peer from the header.
  if (!obj) return void conn.send({ type: MSG.STATUS, seq: 0, peer: 0, attrs: { status: statusCode('NOT_FOUND'), objid: 0 } });
  if (method === undefined) return void conn.send({ type: MSG.STATUS, seq: 0, peer: 0, attrs: { status: statusCode('INVALID_ARGUMENT'), objid: 0 } });
  const noReply = (msg.attrs.noReply ?? 0) !== 0;
  const answer = (status: number, fields?: Field[]) => {
    try {
      if (fields) void conn.send({ type: MSG.DATA, seq: msg.seq, peer: msg.peer, attrs: { objid, data: fields } });
    } catch (e) {
      report(e, `reply to ${method}`);
      status = statusCode('UNKNOWN_ERROR');
    }
    if (!noReply) void conn.send({ type: MSG.STATUS, seq: msg.seq, peer: msg.peer, attrs: { status, objid } });
  };
  const spec = obj.kind === 'object' && Object.hasOwn(obj.methods, method) ? obj.methods[method] : undefined;

  if (obj.kind === 'object' && !spec) return answer(statusCode('METHOD_NOT_FOUND'));
  if (data === undefined) return answer(statusCode('INVALID_ARGUMENT'));
  const args = toTable(data);
  const where = obj.kind === 'object' ? `${obj.name}.${method}` : obj.kind === 'listener' ? `event ${method}` : `notification ${method}`;
  const run = async (): Promise<Table | void> => {
    if (obj.kind === 'object') return spec!.handler({ object: obj.name, method, args, fields: data, peer: msg.peer, ...(user ? { user } : {}), ...(group ? { group } : {}) }, obj.self);
    if (obj.kind === 'subscriber') return obj.handler({ type: method, data: args, fields: data });
    await obj.handler({ name: method, data: args, fields: data });
  };

  run().then(
    (result) => {
      const table = isTable(result);

      // A void callback may still return something (`n => list.push(n)`): only
      // a method must return a table or nothing.
      if (!table && result !== undefined && obj.kind === 'object') throw new TypeError(`${where} returned ${typeof result}, not a table`);
      answer(0, table ? fromTable(result) : undefined);
    },
    (e: unknown) => {
      if (e instanceof UbusError && obj.kind !== 'listener') {
        const d = e.data;

        return answer(e.status, isTable(d) ? fromTable(d) : undefined);
      }
      report(e, where);
      // An event listener's answer is always 0 (ubus_event_cb).
      answer(obj.kind === 'listener' ? 0 : statusCode('UNKNOWN_ERROR'));
    },
  ).catch((e: unknown) => {
    report(e, where);
    answer(statusCode('UNKNOWN_ERROR'));
  });
}
