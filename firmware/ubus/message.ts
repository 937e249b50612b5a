// ubus messages (ubusmsg.h): an 8-byte header {u8 version, u8 type, be16 seq,
// be32 peer} and one blob_attr (id 0) holding UBUS_ATTR_* attributes.
// FrameReader cuts a byte stream into messages: it answers "need more bytes"
// with null and throws MalformedError for bytes no message can start with.

import { ATTR_HEADER, concat, cString, encodeAttr, padded, readAttrs, readCString, readU32, u32, type BlobAttr } from './blob.ts';
import { decodeFields, encodeFields, type Field } from './blobmsg.ts';
import { EncodeError, MalformedError } from './errors.ts';

/** enum ubus_msg_type. */
export const MSG = {
  HELLO: 0,
  STATUS: 1,
  DATA: 2,
  PING: 3,
  LOOKUP: 4,
  INVOKE: 5,
  ADD_OBJECT: 6,
  REMOVE_OBJECT: 7,
  SUBSCRIBE: 8,
  UNSUBSCRIBE: 9,
  NOTIFY: 10,
  MONITOR: 11,
} as const;

export const MSG_NAMES = Object.keys(MSG) as (keyof typeof MSG)[];

export const HEADER = 8;
/** UBUS_MAX_MSGLEN as ubus's CMakeLists.txt sets it. */
export const MAX_MSGLEN = 1048576;
/** Object ids below this are ubusd's own; UBUS_SYSTEM_OBJECT_EVENT is 1. */
export const SYSTEM_OBJECT_MAX = 1024;
export const EVENT_OBJECT = 1;

/** The UBUS_ATTR_* attributes a message may carry. Encoding writes them in
 * the object's key order, so builders list them in libubus's order. */
export interface Attrs {
  status?: number;
  objpath?: string;
  objid?: number;
  method?: string;
  objtype?: number;
  /** Method tables of an object type: {method: {arg: blobmsg type code}}. */
  signature?: Field[];
  data?: Field[];
  target?: number;
  active?: number;
  noReply?: number;
  /** Object ids, in a nest of int32 attributes. */
  subscribers?: number[];
  user?: string;
  group?: string;
}

export interface Message {
  type: number;
  seq: number;
  peer: number;
  attrs: Attrs;
}

/** enum ubus_msg_attr. */
const ATTR_IDS: Record<keyof Attrs, number> = {
  status: 1,
  objpath: 2,
  objid: 3,
  method: 4,
  objtype: 5,
  signature: 6,
  data: 7,
  target: 8,
  active: 9,
  noReply: 10,
  subscribers: 11,
  user: 12,
  group: 13,
};

const ATTR_KEYS = Object.fromEntries(Object.entries(ATTR_IDS).map(([k, id]) => [id, k])) as Record<number, keyof Attrs>;

function u8(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff);
}

function attrPayload(key: keyof Attrs, attrs: Attrs): Uint8Array {
  switch (key) {
    case 'objpath':
    case 'method':
    case 'user':
    case 'group':
      return cString(attrs[key]!, key);
    case 'status':
    case 'objid':
    case 'objtype':
    case 'target':
      return u32(attrs[key]!);
    case 'active':
    case 'noReply':
      return u8(attrs[key]!);
    case 'signature':
    case 'data':
      return encodeFields(attrs[key]!);
    case 'subscribers':
      return concat(attrs.subscribers!.map((id) => encodeAttr(0, u32(id))));
  }
}

export function encodeMessage(msg: Message): Uint8Array {
  const parts: Uint8Array[] = [];

  for (const key of Object.keys(msg.attrs) as (keyof Attrs)[]) {
    if (msg.attrs[key] === undefined) continue;
    if (!(key in ATTR_IDS)) throw new EncodeError(`unknown ubus attribute ${key}`);
    parts.push(encodeAttr(ATTR_IDS[key], attrPayload(key, msg.attrs)));
  }
  const blob = encodeAttr(0, concat(parts));

  if (blob.length > MAX_MSGLEN) throw new EncodeError(`ubus message of ${blob.length} bytes exceeds ${MAX_MSGLEN}`);
  const out = new Uint8Array(HEADER + blob.length);
  const view = new DataView(out.buffer);

  view.setUint8(0, 0);
  view.setUint8(1, msg.type);
  view.setUint16(2, msg.seq);
  view.setUint32(4, msg.peer >>> 0);
  out.set(blob, HEADER);

  return out;
}

function readU8(data: Uint8Array, what: string): number {
  if (data.length !== 1) throw new MalformedError(`${what} has ${data.length} bytes, not 1`);

  return data[0]!;
}

function setAttr(attrs: Attrs, key: keyof Attrs, attr: BlobAttr): void {
  const what = `UBUS_ATTR_${key.toUpperCase()}`;
  const d = attr.data;

  switch (key) {
    case 'objpath':
    case 'method':
    case 'user':
    case 'group':
      return void (attrs[key] = readCString(d, what));
    case 'status':
      return void (attrs.status = readU32(d, what) | 0);
    case 'objid':
    case 'objtype':
    case 'target':
      return void (attrs[key] = readU32(d, what));
    case 'active':
    case 'noReply':
      return void (attrs[key] = readU8(d, what));
    case 'signature':
    case 'data':
      return void (attrs[key] = decodeFields(d));
    case 'subscribers':
      return void (attrs.subscribers = readAttrs(d).map((a) => readU32(a.data, 'subscriber id')));
  }
}

/** Total length of the message starting at `bytes[0]`, or null when fewer
 * than the 12 bytes that tell it have arrived. Checks what ubus_validate_hdr does. */
export function frameLength(bytes: Uint8Array): number | null {
  if (bytes.length < HEADER + ATTR_HEADER) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER + ATTR_HEADER);

  if (view.getUint8(0) !== 0) throw new MalformedError(`ubus message version ${view.getUint8(0)}, expected 0`);
  const rawLen = view.getUint32(HEADER) & 0x00ffffff;

  if (rawLen < ATTR_HEADER) throw new MalformedError(`ubus message blob length ${rawLen} < 4`);
  if (padded(rawLen) > MAX_MSGLEN) throw new MalformedError(`ubus message blob length ${rawLen} exceeds ${MAX_MSGLEN}`);

  return HEADER + rawLen;
}

/** One whole message, exactly `frameLength` bytes. Unknown attribute ids are
 * skipped (as libubus does); a repeated attribute keeps the last one. */
export function decodeMessage(frame: Uint8Array): Message {
  const length = frameLength(frame);

  if (length === null || length !== frame.length) {
    throw new MalformedError(`ubus message of ${frame.length} bytes, its header says ${length ?? 'nothing'}`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, HEADER);
  const attrs: Attrs = {};

  for (const attr of readAttrs(frame.subarray(HEADER + ATTR_HEADER))) {
    const key = ATTR_KEYS[attr.id];

    if (attr.extended) throw new MalformedError(`ubus attribute ${attr.id} has the blobmsg extended bit`);
    if (key) setAttr(attrs, key, attr);
  }

  return { type: view.getUint8(1), seq: view.getUint16(2), peer: view.getUint32(4), attrs };
}

/** Cuts a stream into whole messages, whatever the chunks look like. */
export class FrameReader {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;

  push(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const used = this.end - this.start;

      if (used + chunk.length <= this.buf.length) this.buf.copyWithin(0, this.start, this.end);
      else {
        const bigger = new Uint8Array(Math.max(used + chunk.length, this.buf.length * 2));

        bigger.set(this.buf.subarray(this.start, this.end));
        this.buf = bigger;
      }
      this.start = 0;
      this.end = used;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next whole message (a copy), or null until more bytes arrive. */
  next(): Uint8Array | null {
    const pending = this.buf.subarray(this.start, this.end);
    const length = frameLength(pending);

    if (length === null || pending.length < length) return null;
    const frame = pending.slice(0, length);

    this.start += length;
    if (this.start === this.end) this.start = this.end = 0;

    return frame;
  }

  /** Bytes received but not yet returned as a message. */
  get buffered(): number {
    return this.end - this.start;
  }
}
