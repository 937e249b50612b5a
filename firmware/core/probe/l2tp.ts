// L2TP control messages (RFC 2661 section 3 and 4) on UDP 1701: the header
// with the T, L and S bits (a control message always has length and
// sequence numbers), then attribute-value pairs. A control connection opens
// with SCCRQ; the server answers SCCRP, or StopCCN to refuse.

import { concat, encodeText, Malformed, readText, u16, u32, view } from './wire.ts';

export const L2TP_PORT = 1701;

const T = 0x8000, L = 0x4000, S = 0x0800, O = 0x0200, VERSION = 2;
const HEADER = 12;

export const SCCRQ = 1, SCCRP = 2, SCCCN = 3, STOP_CCN = 4, HELLO = 6;

export const L2TP_MESSAGES: Record<number, string> = {
  1: 'SCCRQ', 2: 'SCCRP', 3: 'SCCCN', 4: 'StopCCN', 6: 'HELLO',
  7: 'OCRQ', 8: 'OCRP', 9: 'OCCN', 10: 'ICRQ', 11: 'ICRP', 12: 'ICCN', 14: 'CDN', 15: 'WEN', 16: 'SLI',
};

/** AVP attribute types (section 4.4). */
export const AVP = {
  messageType: 0, resultCode: 1, protocolVersion: 2, framing: 3, bearer: 4, tieBreaker: 5,
  firmware: 6, hostName: 7, vendorName: 8, assignedTunnel: 9, receiveWindow: 10, challenge: 11, challengeResponse: 13,
} as const;

/** StopCCN result codes (section 4.4.2). */
export const STOPCCN_RESULTS: Record<number, string> = {
  1: 'general request to clear control connection',
  2: 'general error',
  3: 'control channel already exists',
  4: 'requester is not authorized to establish a control channel',
  5: 'the protocol version of the requester is not supported',
  6: 'requester is being shut down',
  7: 'finite state machine error',
};

/** General error codes (section 4.4.2). */
export const L2TP_ERRORS: Record<number, string> = {
  0: 'no general error',
  1: 'no control connection exists yet for this LAC-LNS pair',
  2: 'length is wrong',
  3: 'a field value was out of range or a reserved field was not zero',
  4: 'insufficient resources',
  5: 'the session ID is invalid',
  6: 'a generic vendor-specific error',
  7: 'try another',
  8: 'shut down due to an unknown AVP with the M bit set',
};

export interface Avp {
  mandatory: boolean;
  /** Hidden (section 4.3): the value is encrypted with the tunnel secret. */
  hidden: boolean;
  vendor: number;
  type: number;
  value: Uint8Array;
}

export interface ControlMessage {
  tunnel: number;
  session: number;
  ns: number;
  nr: number;
  /** Empty: a ZLB acknowledgement. */
  avps: Avp[];
}

function encodeAvp(a: Avp): Uint8Array {
  const length = 6 + a.value.length;

  if (length > 0x3ff) throw new Malformed(`L2TP AVP ${a.type} is too long (${length} bytes)`);

  return concat([u16((a.mandatory ? 0x8000 : 0) | (a.hidden ? 0x4000 : 0) | length), u16(a.vendor), u16(a.type), a.value]);
}

export function encodeControl(m: ControlMessage): Uint8Array {
  const avps = concat(m.avps.map(encodeAvp));

  return concat([u16(T | L | S | VERSION), u16(HEADER + avps.length), u16(m.tunnel), u16(m.session), u16(m.ns), u16(m.nr), avps]);
}

/** One datagram. A data message (T bit clear) is not ours to read. */
export function decodeControl(bytes: Uint8Array): ControlMessage {
  if (bytes.length < HEADER) throw new Malformed(`L2TP message of ${bytes.length} bytes is shorter than a control header`);
  const v = view(bytes);
  const flags = v.getUint16(0);

  if ((flags & 0x000f) !== VERSION) throw new Malformed(`L2TP version ${flags & 0x000f}, expected 2`);
  if ((flags & (T | L | S)) !== (T | L | S) || (flags & O) !== 0) throw new Malformed(`L2TP header flags 0x${flags.toString(16)} are not a control message's`);
  const length = v.getUint16(2);

  if (length !== bytes.length) throw new Malformed(`L2TP control message of ${bytes.length} bytes, its header says ${length}`);

  const avps: Avp[] = [];

  for (let at = HEADER; at < length; ) {
    if (length - at < 6) throw new Malformed(`L2TP AVP header cut short at byte ${at}`);
    const bits = v.getUint16(at);
    const size = bits & 0x3ff;

    if (size < 6 || at + size > length) throw new Malformed(`L2TP AVP at byte ${at} has length ${size}`);
    avps.push({ mandatory: (bits & 0x8000) !== 0, hidden: (bits & 0x4000) !== 0, vendor: v.getUint16(at + 2), type: v.getUint16(at + 4), value: bytes.slice(at + 6, at + size) });
    at += size;
  }

  return { tunnel: v.getUint16(4), session: v.getUint16(6), ns: v.getUint16(8), nr: v.getUint16(10), avps };
}

const avp = (type: number, value: Uint8Array, mandatory = true): Avp => ({ mandatory, hidden: false, vendor: 0, type, value });

/** The Message Type AVP, which must come first; null for a ZLB. */
export function messageType(m: ControlMessage): number | null {
  const first = m.avps[0];

  if (!first) return null;
  if (first.vendor !== 0 || first.type !== AVP.messageType || first.value.length !== 2) throw new Malformed('L2TP control message does not start with a Message Type AVP');

  return view(first.value).getUint16(0);
}

/** SCCRQ of a LAC: version 1.0, both framings, a tunnel ID of our own. */
export function sccrq(o: { tunnel: number; hostName: string; vendor: string }): Uint8Array {
  return encodeControl({
    tunnel: 0, session: 0, ns: 0, nr: 0,
    avps: [
      avp(AVP.messageType, u16(SCCRQ)),
      avp(AVP.protocolVersion, Uint8Array.of(1, 0)),
      avp(AVP.hostName, encodeText(o.hostName)),
      avp(AVP.framing, u32(3)),
      avp(AVP.assignedTunnel, u16(o.tunnel)),
      avp(AVP.receiveWindow, u16(4)),
      avp(AVP.vendorName, encodeText(o.vendor), false),
    ],
  });
}

/** StopCCN for the tunnel the server assigned: result 1 (a general request to clear). */
export function stopCcn(o: { peerTunnel: number; tunnel: number; ns: number; nr: number }): Uint8Array {
  return encodeControl({
    tunnel: o.peerTunnel, session: 0, ns: o.ns, nr: o.nr,
    avps: [avp(AVP.messageType, u16(STOP_CCN)), avp(AVP.assignedTunnel, u16(o.tunnel)), avp(AVP.resultCode, u16(1))],
  });
}

/** What a router owner can read from an SCCRP or StopCCN. */
export interface L2tpReply {
  message: string;
  host_name?: string;
  vendor?: string;
  firmware?: number;
  protocol_version?: string;
  assigned_tunnel?: number;
  /** StopCCN: why the server refused. */
  result?: { code: number; error?: number; text: string };
  /** The server challenges us (tunnel authentication with a secret). */
  challenge?: boolean;
  /** AVPs hidden with the tunnel secret: unreadable without it. */
  hidden?: number;
}

export function describeReply(m: ControlMessage): L2tpReply {
  const type = messageType(m);
  const out: L2tpReply = { message: type === null ? 'ZLB' : (L2TP_MESSAGES[type] ?? `message type ${type}`) };
  let hidden = 0;

  for (const a of m.avps) {
    if (a.vendor !== 0) continue;
    if (a.hidden) {
      hidden++;
      continue;
    }
    const v = view(a.value);

    if (a.type === AVP.hostName) out.host_name = readText(a.value);
    else if (a.type === AVP.vendorName) out.vendor = readText(a.value);
    else if (a.type === AVP.firmware && a.value.length === 2) out.firmware = v.getUint16(0);
    else if (a.type === AVP.protocolVersion && a.value.length === 2) out.protocol_version = `${a.value[0]}.${a.value[1]}`;
    else if (a.type === AVP.assignedTunnel && a.value.length === 2) out.assigned_tunnel = v.getUint16(0);
    else if (a.type === AVP.challenge) out.challenge = true;
    else if (a.type === AVP.resultCode && a.value.length >= 2) {
      const code = v.getUint16(0);
      const error = a.value.length >= 4 ? v.getUint16(2) : undefined;
      const text = a.value.length > 4 ? readText(a.value.subarray(4)) : '';

      out.result = { code, ...(error === undefined ? {} : { error }), text };
    }
  }
  if (hidden) out.hidden = hidden;

  return out;
}
