// PPTP control messages (RFC 2637 section 2) on TCP 1723: the 12-byte
// header (Length, PPTP Message Type 1, Magic Cookie 0x1A2B3C4D, Control
// Message Type, Reserved0), the Start-Control-Connection Request and Reply
// a client opens with, and the Stop-Control-Connection Request it closes
// with. PptpFramer cuts the TCP stream into messages.

import { concat, fixedText, Malformed, readText, u16, u32, u8, view } from './wire.ts';

export const PPTP_PORT = 1723;
export const MAGIC_COOKIE = 0x1a2b3c4d;
const HEADER = 12;
/** No control message is longer than the Outgoing-Call-Request (168 bytes); leave room. */
const MAX_LENGTH = 1024;

export const PPTP_MESSAGES: Record<number, string> = {
  1: 'Start-Control-Connection-Request',
  2: 'Start-Control-Connection-Reply',
  3: 'Stop-Control-Connection-Request',
  4: 'Stop-Control-Connection-Reply',
  5: 'Echo-Request',
  6: 'Echo-Reply',
  7: 'Outgoing-Call-Request',
  8: 'Outgoing-Call-Reply',
  9: 'Incoming-Call-Request',
  10: 'Incoming-Call-Reply',
  11: 'Incoming-Call-Connected',
  12: 'Call-Clear-Request',
  13: 'Call-Disconnect-Notify',
  14: 'WAN-Error-Notify',
  15: 'Set-Link-Info',
};

export const SCCRQ = 1, SCCRP = 2, STOP_CCRQ = 3, STOP_CCRP = 4;

/** Start-Control-Connection-Reply result codes (section 2.2). */
export const SCCRP_RESULTS: Record<number, string> = {
  1: 'successful channel establishment',
  2: 'general error',
  3: 'command channel already exists',
  4: 'requester is not authorized to establish a command channel',
  5: 'the protocol version of the requester is not supported',
};

/** General error codes (section 2.16). */
export const PPTP_ERRORS: Record<number, string> = {
  0: 'none',
  1: 'not connected',
  2: 'bad format',
  3: 'bad value',
  4: 'no resource',
  5: 'bad call ID',
  6: 'PAC error',
};

export interface ControlMessage {
  type: number;
  /** The message after the 12-byte header. */
  body: Uint8Array;
}

export function encodeControl(m: ControlMessage): Uint8Array {
  return concat([u16(HEADER + m.body.length), u16(1), u32(MAGIC_COOKIE), u16(m.type), u16(0), m.body]);
}

/** The length the header announces, or null before 12 bytes are there. */
export function controlLength(bytes: Uint8Array): number | null {
  if (bytes.length < HEADER) return null;
  const v = view(bytes);
  const length = v.getUint16(0);

  if (v.getUint16(2) !== 1 || v.getUint32(4) !== MAGIC_COOKIE) throw new Malformed('not a PPTP control message (no magic cookie)');
  if (length < HEADER || length > MAX_LENGTH) throw new Malformed(`PPTP control message length ${length} is out of range`);

  return length;
}

/** One whole message, exactly as long as its header says. */
export function decodeControl(frame: Uint8Array): ControlMessage {
  if (controlLength(frame) !== frame.length) throw new Malformed(`PPTP control message of ${frame.length} bytes, its header says ${controlLength(frame) ?? 'nothing'}`);

  return { type: view(frame).getUint16(8), body: frame.slice(HEADER) };
}

/** Cuts the TCP stream into whole control messages, however it arrives. */
export class PptpFramer {
  private pending: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): void {
    this.pending = this.pending.length === 0 ? chunk.slice() : concat([this.pending, chunk]);
  }

  /** The next message, or null until more bytes arrive; throws Malformed. */
  next(): ControlMessage | null {
    const length = controlLength(this.pending);

    if (length === null || this.pending.length < length) return null;
    const frame = this.pending.subarray(0, length);

    this.pending = this.pending.slice(length);

    return decodeControl(frame);
  }
}

/** The fields of a Start-Control-Connection Request or Reply (156 bytes). */
export interface StartControl {
  /** 0x0100 = version 1, revision 0. */
  version: number;
  /** Reply only: the result and error codes. */
  result?: number;
  error?: number;
  framing: number;
  bearer: number;
  maxChannels: number;
  firmware: number;
  hostName: string;
  vendor: string;
}

const START_BODY = 144;

export function encodeStartControl(type: typeof SCCRQ | typeof SCCRP, s: StartControl): Uint8Array {
  const codes = type === SCCRP ? concat([u8(s.result ?? 0), u8(s.error ?? 0)]) : u16(0);

  return encodeControl({ type, body: concat([u16(s.version), codes, u32(s.framing), u32(s.bearer), u16(s.maxChannels), u16(s.firmware), fixedText(s.hostName, 64), fixedText(s.vendor, 64)]) });
}

export function decodeStartControl(m: ControlMessage): StartControl {
  if (m.type !== SCCRQ && m.type !== SCCRP) throw new Malformed(`PPTP message ${m.type} is not a Start-Control-Connection message`);
  if (m.body.length !== START_BODY) throw new Malformed(`PPTP ${PPTP_MESSAGES[m.type]} has ${m.body.length + HEADER} bytes, not 156`);
  const v = view(m.body);

  return {
    version: v.getUint16(0),
    ...(m.type === SCCRP ? { result: v.getUint8(2), error: v.getUint8(3) } : {}),
    framing: v.getUint32(4),
    bearer: v.getUint32(8),
    maxChannels: v.getUint16(12),
    firmware: v.getUint16(14),
    hostName: readText(m.body.subarray(16, 80)),
    vendor: readText(m.body.subarray(80, 144)),
  };
}

/** What a client opens with: version 1.0, asynchronous and synchronous
 * framing, analog and digital bearer, as Windows and pptp-linux send. */
export function sccrq(hostName: string, vendor: string): Uint8Array {
  return encodeStartControl(SCCRQ, { version: 0x0100, framing: 3, bearer: 3, maxChannels: 0, firmware: 1, hostName, vendor });
}

/** Stop-Control-Connection-Request, reason 1 (none: a general request to clear). */
export function stopCcrq(): Uint8Array {
  return encodeControl({ type: STOP_CCRQ, body: concat([u8(1), u8(0), u16(0)]) });
}
