// IKE messages (RFC 7296 section 3): the 28-byte header, then a chain of
// payloads, each naming the type of the next. On UDP 4500 every IKE message
// follows the 4-byte non-ESP marker (RFC 3948 2.2). Payload types the probe
// does not read travel as raw bytes (IKEv1's all of them), so decoding and
// encoding give back the same message. The probe's own request and what it
// reads from replies: ike-init.ts.

import { concat, Malformed, u16, u32, u8, view } from './wire.ts';

export const IKE_PORT = 500;
export const NATT_PORT = 4500;
export const NON_ESP_MARKER = new Uint8Array(4);

const HEADER = 28;
export const IKE_SA_INIT = 34;
export const FLAG_INITIATOR = 0x08, FLAG_RESPONSE = 0x20;

/** IKEv2 payload types (section 3.2). */
export const PAYLOAD = { sa: 33, ke: 34, nonce: 40, notify: 41, vendor: 43, sk: 46, skf: 53 } as const;
/** IKEv1 (RFC 2408): only its Notification is read, to say what an IKEv1-only server meant. */
export const IKEV1_NOTIFY = 11;

export const EXCHANGES: Record<number, string> = { 34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL' };

/** Transform types and the IDs the probe offers or may get back (IANA "IKEv2 Parameters"). */
export const ENCR = 1, PRF = 2, INTEG = 3, DH = 4;
const TRANSFORM_IDS: Record<number, Record<number, string>> = {
  [ENCR]: { 3: '3DES', 12: 'AES_CBC', 13: 'AES_CTR', 18: 'AES_GCM_8', 19: 'AES_GCM_12', 20: 'AES_GCM_16', 23: 'CAMELLIA_CBC', 28: 'CHACHA20_POLY1305' },
  [PRF]: { 1: 'PRF_HMAC_MD5', 2: 'PRF_HMAC_SHA1', 4: 'PRF_AES128_XCBC', 5: 'PRF_HMAC_SHA2_256', 6: 'PRF_HMAC_SHA2_384', 7: 'PRF_HMAC_SHA2_512', 8: 'PRF_AES128_CMAC' },
  [INTEG]: { 1: 'HMAC_MD5_96', 2: 'HMAC_SHA1_96', 5: 'AES_XCBC_96', 8: 'AES_CMAC_96', 12: 'HMAC_SHA2_256_128', 13: 'HMAC_SHA2_384_192', 14: 'HMAC_SHA2_512_256' },
  [DH]: {
    1: 'MODP_768', 2: 'MODP_1024', 5: 'MODP_1536', 14: 'MODP_2048', 15: 'MODP_3072', 16: 'MODP_4096', 17: 'MODP_6144', 18: 'MODP_8192',
    19: 'ECP_256', 20: 'ECP_384', 21: 'ECP_521', 28: 'BRAINPOOL_P256', 29: 'BRAINPOOL_P384', 30: 'BRAINPOOL_P512', 31: 'CURVE25519', 32: 'CURVE448',
  },
};

/** Notify message types (section 3.10.1 and the RFCs named in IANA's registry). */
export const NOTIFY: Record<number, string> = {
  1: 'UNSUPPORTED_CRITICAL_PAYLOAD', 4: 'INVALID_IKE_SPI', 5: 'INVALID_MAJOR_VERSION', 7: 'INVALID_SYNTAX', 9: 'INVALID_MESSAGE_ID',
  11: 'INVALID_SPI', 14: 'NO_PROPOSAL_CHOSEN', 17: 'INVALID_KE_PAYLOAD', 24: 'AUTHENTICATION_FAILED', 34: 'SINGLE_PAIR_REQUIRED',
  35: 'NO_ADDITIONAL_SAS', 36: 'INTERNAL_ADDRESS_FAILURE', 37: 'FAILED_CP_REQUIRED', 38: 'TS_UNACCEPTABLE', 39: 'INVALID_SELECTORS',
  43: 'TEMPORARY_FAILURE', 44: 'CHILD_SA_NOT_FOUND',
  16384: 'INITIAL_CONTACT', 16385: 'SET_WINDOW_SIZE', 16386: 'ADDITIONAL_TS_POSSIBLE', 16387: 'IPCOMP_SUPPORTED',
  16388: 'NAT_DETECTION_SOURCE_IP', 16389: 'NAT_DETECTION_DESTINATION_IP', 16390: 'COOKIE', 16391: 'USE_TRANSPORT_MODE',
  16392: 'HTTP_CERT_LOOKUP_SUPPORTED', 16393: 'REKEY_SA', 16394: 'ESP_TFC_PADDING_NOT_SUPPORTED', 16395: 'NON_FIRST_FRAGMENTS_ALSO',
  16396: 'MOBIKE_SUPPORTED', 16404: 'MULTIPLE_AUTH_SUPPORTED', 16405: 'ANOTHER_AUTH_FOLLOWS', 16406: 'REDIRECT_SUPPORTED',
  16407: 'REDIRECT', 16408: 'REDIRECTED_FROM', 16430: 'IKEV2_FRAGMENTATION_SUPPORTED', 16431: 'SIGNATURE_HASH_ALGORITHMS',
};
export const N_INVALID_KE_PAYLOAD = 17, N_NAT_SOURCE = 16388, N_NAT_DESTINATION = 16389, N_COOKIE = 16390, N_FRAGMENTATION = 16430;

export const notifyName = (type: number) => NOTIFY[type] ?? `NOTIFY_${type}`;
export const transformName = (type: number, id: number) => TRANSFORM_IDS[type]?.[id] ?? `${['', 'ENCR', 'PRF', 'INTEG', 'DH'][type] ?? `T${type}`}_${id}`;

/** A transform attribute: a number in TV form (the key length), bytes in TLV form. */
export interface Attribute {
  type: number;
  value: number | Uint8Array;
}

export interface Transform {
  type: number;
  id: number;
  attributes: Attribute[];
}

export interface Proposal {
  number: number;
  /** 1 = IKE. */
  protocol: number;
  spi: Uint8Array;
  transforms: Transform[];
}

export type Payload =
  | { kind: 'sa'; critical: boolean; proposals: Proposal[] }
  | { kind: 'ke'; critical: boolean; group: number; data: Uint8Array }
  | { kind: 'nonce'; critical: boolean; data: Uint8Array }
  | { kind: 'notify'; critical: boolean; protocol: number; spi: Uint8Array; type: number; data: Uint8Array }
  | { kind: 'vendor'; critical: boolean; data: Uint8Array }
  /** Any other payload, as it came; `inner` is the first payload inside an encrypted one. */
  | { kind: 'raw'; type: number; critical: boolean; body: Uint8Array; inner?: number };

export interface IkeMessage {
  spiI: Uint8Array;
  spiR: Uint8Array;
  major: number;
  minor: number;
  exchange: number;
  flags: number;
  messageId: number;
  payloads: Payload[];
}

const KIND_TYPE = { sa: PAYLOAD.sa, ke: PAYLOAD.ke, nonce: PAYLOAD.nonce, notify: PAYLOAD.notify, vendor: PAYLOAD.vendor } as const;

export const payloadType = (p: Payload) => (p.kind === 'raw' ? p.type : KIND_TYPE[p.kind]);

// ---------------------------------------------------------------- encoding

function encodeAttribute(a: Attribute): Uint8Array {
  return typeof a.value === 'number' ? concat([u16(0x8000 | a.type), u16(a.value)]) : concat([u16(a.type), u16(a.value.length), a.value]);
}

function encodeProposal(p: Proposal, last: boolean): Uint8Array {
  const transforms = p.transforms.map((t, i) => {
    const attributes = concat(t.attributes.map(encodeAttribute));

    return concat([u8(i === p.transforms.length - 1 ? 0 : 3), u8(0), u16(8 + attributes.length), u8(t.type), u8(0), u16(t.id), attributes]);
  });
  const body = concat([u8(p.number), u8(p.protocol), u8(p.spi.length), u8(p.transforms.length), p.spi, ...transforms]);

  return concat([u8(last ? 0 : 2), u8(0), u16(4 + body.length), body]);
}

function payloadBody(p: Payload): Uint8Array {
  switch (p.kind) {
    case 'sa': return concat(p.proposals.map((pr, i) => encodeProposal(pr, i === p.proposals.length - 1)));
    case 'ke': return concat([u16(p.group), u16(0), p.data]);
    case 'nonce':
    case 'vendor': return p.data;
    case 'notify': return concat([u8(p.protocol), u8(p.spi.length), u16(p.type), p.spi, p.data]);
    case 'raw': return p.body;
  }
}

export function encodeIke(m: IkeMessage): Uint8Array {
  const payloads = m.payloads.map((p, i) => {
    const body = payloadBody(p);
    const following = m.payloads[i + 1];
    const next = following ? payloadType(following) : p.kind === 'raw' ? (p.inner ?? 0) : 0;

    return concat([u8(next), u8(p.critical ? 0x80 : 0), u16(4 + body.length), body]);
  });
  const rest = concat(payloads);
  const first = m.payloads[0] ? payloadType(m.payloads[0]) : 0;

  return concat([m.spiI, m.spiR, u8(first), u8((m.major << 4) | m.minor), u8(m.exchange), u8(m.flags), u32(m.messageId), u32(HEADER + rest.length), rest]);
}

// ---------------------------------------------------------------- decoding

function decodeProposals(body: Uint8Array): Proposal[] {
  const v = view(body);
  const proposals: Proposal[] = [];

  for (let at = 0, last = false; !last; ) {
    if (body.length - at < 8) throw new Malformed(`IKE proposal cut short at byte ${at} of the SA payload`);
    last = v.getUint8(at) === 0;
    const length = v.getUint16(at + 2);

    if (length < 8 || at + length > body.length) throw new Malformed(`IKE proposal at byte ${at} has length ${length}`);
    const spiSize = v.getUint8(at + 6);
    const count = v.getUint8(at + 7);
    const spi = body.slice(at + 8, at + 8 + spiSize);
    const transforms: Transform[] = [];
    let t = at + 8 + spiSize;

    for (let i = 0; i < count; i++) {
      if (at + length - t < 8) throw new Malformed(`IKE transform ${i + 1} cut short in proposal ${v.getUint8(at + 4)}`);
      const tLength = v.getUint16(t + 2);

      if (tLength < 8 || t + tLength > at + length) throw new Malformed(`IKE transform at byte ${t} has length ${tLength}`);
      const attributes: Attribute[] = [];

      for (let a = t + 8; a < t + tLength; ) {
        if (t + tLength - a < 4) throw new Malformed(`IKE transform attribute cut short at byte ${a}`);
        const type = v.getUint16(a);

        if (type & 0x8000) {
          attributes.push({ type: type & 0x7fff, value: v.getUint16(a + 2) });
          a += 4;
        } else {
          const size = v.getUint16(a + 2);

          if (a + 4 + size > t + tLength) throw new Malformed(`IKE transform attribute at byte ${a} overruns its transform`);
          attributes.push({ type, value: body.slice(a + 4, a + 4 + size) });
          a += 4 + size;
        }
      }
      transforms.push({ type: v.getUint8(t + 4), id: v.getUint16(t + 6), attributes });
      t += tLength;
    }
    if (t !== at + length) throw new Malformed(`IKE proposal ${v.getUint8(at + 4)} has ${at + length - t} bytes after its transforms`);
    proposals.push({ number: v.getUint8(at + 4), protocol: v.getUint8(at + 5), spi, transforms });
    at += length;
    if (!last && at >= body.length) throw new Malformed('IKE SA payload ends before its last proposal');
  }

  return proposals;
}

function decodePayload(type: number, critical: boolean, body: Uint8Array, major: number): Payload {
  const v = view(body);

  if (major !== 2) return { kind: 'raw', type, critical, body };
  switch (type) {
    case PAYLOAD.sa: return { kind: 'sa', critical, proposals: decodeProposals(body) };
    case PAYLOAD.ke:
      if (body.length < 4) throw new Malformed('IKE KE payload is too short');

      return { kind: 'ke', critical, group: v.getUint16(0), data: body.slice(4) };
    case PAYLOAD.nonce: return { kind: 'nonce', critical, data: body.slice() };
    case PAYLOAD.vendor: return { kind: 'vendor', critical, data: body.slice() };
    case PAYLOAD.notify: {
      if (body.length < 4 || body.length < 4 + v.getUint8(1)) throw new Malformed('IKE Notify payload is too short');
      const spiSize = v.getUint8(1);

      return { kind: 'notify', critical, protocol: v.getUint8(0), spi: body.slice(4, 4 + spiSize), type: v.getUint16(2), data: body.slice(4 + spiSize) };
    }
    default: return { kind: 'raw', type, critical, body: body.slice() };
  }
}

/** One IKE message, exactly as long as its header says (IKEv1 too, its payloads raw). */
export function decodeIke(bytes: Uint8Array): IkeMessage {
  if (bytes.length < HEADER) throw new Malformed(`${bytes.length} bytes are too few for an IKE header`);
  const v = view(bytes);
  const major = v.getUint8(17) >> 4;
  const length = v.getUint32(24);

  if (major !== 1 && major !== 2) throw new Malformed(`IKE major version ${major}`);
  if (length !== bytes.length) throw new Malformed(`IKE message of ${bytes.length} bytes, its header says ${length}`);

  const payloads: Payload[] = [];
  let at = HEADER;

  for (let next = v.getUint8(16); next !== 0; ) {
    if (length - at < 4) throw new Malformed(`IKE payload header cut short at byte ${at}`);
    const size = v.getUint16(at + 2);

    if (size < 4 || at + size > length) throw new Malformed(`IKE payload ${next} at byte ${at} has length ${size}`);
    const type = next;
    const payload = decodePayload(type, (v.getUint8(at + 1) & 0x80) !== 0, bytes.subarray(at + 4, at + size), major);

    next = v.getUint8(at);
    payloads.push(payload);
    at += size;
    // An encrypted payload (SK, SKF) is last; its "next" names the first payload inside it.
    if (major === 2 && payload.kind === 'raw' && (type === PAYLOAD.sk || type === PAYLOAD.skf)) {
      if (next !== 0) payload.inner = next;
      break;
    }
  }
  if (at !== length) throw new Malformed(`IKE message has ${length - at} bytes after its last payload`);

  return { spiI: bytes.slice(0, 8), spiR: bytes.slice(8, 16), major, minor: v.getUint8(17) & 0x0f, exchange: v.getUint8(18), flags: v.getUint8(19), messageId: v.getUint32(20), payloads };
}

/** On UDP 4500: the marker, then the message. */
export const withMarker = (ike: Uint8Array) => concat([NON_ESP_MARKER, ike]);

/** A datagram from UDP 4500 without its marker; null for a NAT-T keepalive
 * (one 0xFF byte) or ESP (a non-zero SPI where the marker would be). */
export function withoutMarker(datagram: Uint8Array): Uint8Array | null {
  if (datagram.length < 4 || datagram.subarray(0, 4).some((b) => b !== 0)) return null;

  return datagram.subarray(4);
}
