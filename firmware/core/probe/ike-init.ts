// The probe's IKEv2 IKE_SA_INIT (RFC 7296 1.2): proposals a broad client
// offers, a made-up public value (the exchange is never completed), NAT
// detection hashes (2.23); and what a reply tells a router owner: the
// proposal chosen, an error notify (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD
// ... all mean the server is there), NAT-T support, NATs on the way.

import { parseIPv4, parseIPv6 } from '../net/addr.ts';
import { DH, ENCR, EXCHANGES, FLAG_INITIATOR, FLAG_RESPONSE, IKE_SA_INIT, IKEV1_NOTIFY, INTEG, N_COOKIE, N_FRAGMENTATION, N_INVALID_KE_PAYLOAD, N_NAT_DESTINATION, N_NAT_SOURCE, notifyName, PRF, transformName, type Attribute, type IkeMessage, type Payload, type Proposal, type Transform } from './ike.ts';
import { sha1 } from './sha1.ts';
import { concat, equalBytes, Malformed, u16, view } from './wire.ts';

const attrKeyLength = (bits: number): Attribute => ({ type: 14, value: bits });
const t = (type: number, id: number, keyLength?: number): Transform => ({ type, id, attributes: keyLength ? [attrKeyLength(keyLength)] : [] });

/** DH groups offered, the one our KE payload is for (MODP_2048, which every
 * IKEv2 implementation has) first. */
const GROUPS = [14, 19, 20, 31, 15, 16, 2];
const PRFS = [5, 6, 7, 2];

/** What a broad client offers: AES-CBC with SHA-2/SHA-1 (and 3DES for old
 * servers), and AES-GCM; a server that has none of it still answers with
 * NO_PROPOSAL_CHOSEN, which is all the probe needs. */
export const PROBE_PROPOSALS: Proposal[] = [
  {
    number: 1, protocol: 1, spi: new Uint8Array(0),
    transforms: [t(ENCR, 12, 256), t(ENCR, 12, 128), t(ENCR, 3), ...PRFS.map((id) => t(PRF, id)), t(INTEG, 12), t(INTEG, 13), t(INTEG, 14), t(INTEG, 2), ...GROUPS.map((id) => t(DH, id))],
  },
  {
    number: 2, protocol: 1, spi: new Uint8Array(0),
    transforms: [t(ENCR, 20, 256), t(ENCR, 20, 128), ...PRFS.map((id) => t(PRF, id)), ...GROUPS.map((id) => t(DH, id))],
  },
];
export const PROBE_GROUP = GROUPS[0]!;

/** Public value sizes of the groups whose values the probe can make up:
 * MODP (random bytes below the prime, whose top 64 bits are all ones) and
 * the Montgomery curves (any bytes are a public value). Elliptic curve
 * points of the ECP groups would have to lie on the curve. */
export const KE_BYTES: Record<number, number> = { 1: 96, 2: 128, 5: 192, 14: 256, 15: 384, 16: 512, 17: 768, 18: 1024, 31: 32, 32: 56 };

/** A public value for a group from random bytes; null when it cannot be made up. */
export function keData(group: number, random: Uint8Array): Uint8Array | null {
  const size = KE_BYTES[group];

  if (size === undefined || random.length < size) return null;
  const data = random.slice(0, size);

  if (group < 31) {
    // Below the prime and above 1.
    data[0] = data[0]! & 0x7f;
    data[size - 1] = data[size - 1]! | 0x02;
  }

  return data;
}

export interface InitRequest {
  spi: Uint8Array;
  nonce: Uint8Array;
  /** The group of the KE payload (PROBE_GROUP, or the one the server asked for). */
  group: number;
  /** A public value of that group (keData): the probe never completes the
   * exchange, so made-up values are enough. */
  ke: Uint8Array;
  /** SHA-1 hashes for NAT_DETECTION_SOURCE_IP / _DESTINATION_IP (natDetectionHash). */
  natSource: Uint8Array;
  natDestination: Uint8Array;
}

export function ikeSaInit(r: InitRequest): IkeMessage {
  const notify = (type: number, data: Uint8Array): Payload => ({ kind: 'notify', critical: false, protocol: 0, spi: new Uint8Array(0), type, data });

  return {
    spiI: r.spi, spiR: new Uint8Array(8), major: 2, minor: 0, exchange: IKE_SA_INIT, flags: FLAG_INITIATOR, messageId: 0,
    payloads: [
      { kind: 'sa', critical: false, proposals: PROBE_PROPOSALS },
      { kind: 'ke', critical: false, group: r.group, data: r.ke },
      { kind: 'nonce', critical: false, data: r.nonce },
      notify(N_NAT_SOURCE, r.natSource),
      notify(N_NAT_DESTINATION, r.natDestination),
      notify(N_FRAGMENTATION, new Uint8Array(0)),
    ],
  };
}

export interface SocketAddress {
  address: string;
  port: number;
}

/** NAT detection data (section 2.23): SHA-1 of SPIi | SPIr | IP | port. */
export function natDetectionHash(spiI: Uint8Array, spiR: Uint8Array, at: SocketAddress): Uint8Array {
  const address = parseIPv4(at.address) ?? parseIPv6(at.address);

  if (!address) throw new Malformed(`${at.address} is not an IP address`);

  return sha1(concat([spiI, spiR, Uint8Array.from(address), u16(at.port)]));
}

/** What the hashes of a response say: the server saw us at another address
 * or port than ours (a NAT on our side of the path), or it is not at the
 * address we sent to (a NAT in front of it). Undefined when it sent none. */
export function natDetection(m: IkeMessage, local: SocketAddress, remote: SocketAddress): { router_side: boolean; server_side: boolean } | undefined {
  const data = (type: number) => m.payloads.flatMap((p) => (p.kind === 'notify' && p.type === type ? [p.data] : []));
  const sources = data(N_NAT_SOURCE);
  const destinations = data(N_NAT_DESTINATION);

  if (sources.length === 0 || destinations.length === 0) return undefined;
  const us = natDetectionHash(m.spiI, m.spiR, local);
  const them = natDetectionHash(m.spiI, m.spiR, remote);

  return { router_side: !destinations.some((d) => equalBytes(d, us)), server_side: !sources.some((s) => equalBytes(s, them)) };
}

// ---------------------------------------------------------------- the reply, for people

export interface IkeReply {
  /** "2.0", or "1.0" from an IKEv1-only server. */
  version: string;
  exchange: string;
  response: boolean;
  /** Every notify type, by name. */
  notifies: string[];
  /** The first error notify (type below 16384): why the server refused. */
  error?: string;
  /** INVALID_KE_PAYLOAD: the DH group the server wants instead. */
  wants_group?: string;
  /** The proposal the server chose: its transforms, by name. */
  proposal?: string[];
  /** The server asks for a cookie (it is under load): it is there. */
  cookie?: boolean;
  /** The server sent NAT detection hashes: it supports NAT-T. */
  nat_detection: boolean;
  fragmentation: boolean;
  vendor_ids: string[];
}

function v1Notifies(m: IkeMessage): number[] {
  // IKEv1 Notification: DOI(4) Protocol(1) SPI size(1) type(2).
  return m.payloads.flatMap((p) => (p.kind === 'raw' && p.type === IKEV1_NOTIFY && p.body.length >= 8 ? [view(p.body).getUint16(6)] : []));
}

const V1_NOTIFY: Record<number, string> = { 5: 'INVALID_MAJOR_VERSION', 14: 'NO_PROPOSAL_CHOSEN', 24: 'AUTHENTICATION_FAILED' };

export function describeIke(m: IkeMessage): IkeReply {
  const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

  if (m.major === 1) {
    const notifies = v1Notifies(m).map((n) => V1_NOTIFY[n] ?? `NOTIFY_${n}`);

    return { version: '1.0', exchange: m.exchange === 5 ? 'IKEv1 Informational' : `IKEv1 exchange ${m.exchange}`, response: false, notifies, ...(notifies[0] ? { error: notifies[0] } : {}), nat_detection: false, fragmentation: false, vendor_ids: [] };
  }

  const notifies = m.payloads.flatMap((p) => (p.kind === 'notify' ? [p] : []));
  const error = notifies.find((n) => n.type < 16384);
  const invalidKe = notifies.find((n) => n.type === N_INVALID_KE_PAYLOAD && n.data.length >= 2);
  const sa = m.payloads.find((p) => p.kind === 'sa');
  const chosen = sa?.kind === 'sa' ? sa.proposals[0] : undefined;
  const has = (type: number) => notifies.some((n) => n.type === type);

  return {
    version: `${m.major}.${m.minor}`,
    exchange: EXCHANGES[m.exchange] ?? `exchange ${m.exchange}`,
    response: (m.flags & FLAG_RESPONSE) !== 0,
    notifies: notifies.map((n) => notifyName(n.type)),
    ...(error ? { error: notifyName(error.type) } : {}),
    ...(invalidKe ? { wants_group: transformName(DH, view(invalidKe.data).getUint16(0)) } : {}),
    ...(chosen ? { proposal: chosen.transforms.map((tr) => `${transformName(tr.type, tr.id)}${tr.attributes.map((a) => (a.type === 14 && typeof a.value === 'number' ? `_${a.value}` : '')).join('')}`) } : {}),
    ...(has(N_COOKIE) ? { cookie: true } : {}),
    nat_detection: has(N_NAT_SOURCE) && has(N_NAT_DESTINATION),
    fragmentation: has(N_FRAGMENTATION),
    vendor_ids: m.payloads.flatMap((p) => (p.kind === 'vendor' ? [hexOf(p.data)] : [])),
  };
}
