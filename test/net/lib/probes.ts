// Packet-level probes and the receiver that tells exactly what arrived.
//
// A Sniffer (peers/sniff.py) watches one host's eth0 from before its
// firewall and sockets. Probes (peers/probe.py) carry a unique tag. To know
// that a probe was dropped rather than slow, every batch ends with ICMP
// echoes to the sniffing host (which no passthrough rule touches) as a
// barrier: two of them, 50 ms apart. Once the second has been read, so has
// everything sent before the first, even a packet another CPU handed to the
// sniffer's socket after the first one: however busy the machine, reading
// goes in the order of arrival, and the sender's 50 ms pause is real time.

import { resolve } from 'node:path';

import * as assert from 'uvu/assert';

import { ADDR, type Family, type Host, type Topology } from './topology.ts';
import { PYTHON, exec, must, type Daemon } from './proc.ts';

const PEERS = resolve('test/net/peers');

export interface Packet {
  /** Arrival, in now() milliseconds. */
  t: number;
  family: Family;
  src: string;
  dst: string;
  proto: string;
  sport?: number;
  dport?: number;
  /** TCP flags byte (2 = SYN). */
  flags?: number;
  /** Enhanced GRE: the Call ID in the key field. */
  key?: number;
  spi?: number;
  tag?: string;
}

export type ProbeKind = 'udp' | 'tcp' | 'esp' | 'ah' | 'gre' | 'icmp';

export interface Probe {
  kind: ProbeKind;
  dst: string;
  tag: string;
  port?: number;
  sport?: number;
  key?: number;
  spi?: number;
  /** AH's next header: 59 (none, the default) or 17 (a UDP datagram follows). */
  next?: 59 | 17;
  count?: number;
  every?: number;
  timeout?: number;
}

let tags = 0;

/** A tag no other probe of this process carries. */
export const newTag = (label: string) => `${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${tags++}`;

export class Sniffer {
  private parsed = 0;
  private readonly all: Packet[] = [];

  private constructor(readonly host: Host, private readonly daemon: Daemon) {}

  static async start(topo: Topology, host: Host = 'server', iface = 'eth0'): Promise<Sniffer> {
    const d = topo.daemon(host, 'sniff', [PYTHON, `${PEERS}/sniff.py`, iface]);

    if (!(await d.waitJson((v) => v.ready === true, 10_000))) throw new Error(`sniffer on ${host} did not start: ${d.text()}`);

    return new Sniffer(host, d);
  }

  /** Everything that has arrived so far. */
  packets(): Packet[] {
    const lines = this.daemon.lines;

    for (; this.parsed < lines.length; this.parsed++) {
      const l = lines[this.parsed]!;

      if (l.stream !== 'out' || !l.text.startsWith('{"t"')) continue;
      const p = JSON.parse(l.text) as Packet;

      this.all.push({ ...p, t: p.t * 1000 });
    }

    return this.all;
  }

  /** Packets carrying this tag (or tag.N, for repeated probes). */
  tagged(tag: string): Packet[] {
    return this.packets().filter((p) => p.tag === tag || p.tag?.startsWith(`${tag}.`));
  }

  async waitTag(tag: string, timeoutMs: number): Promise<Packet | undefined> {
    const found = await this.daemon.waitFor((l) => l.text.includes(`"tag": "${tag}"`), timeoutMs);

    return found ? this.tagged(tag)[0] : undefined;
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}

/** Runs probe.py in a host's namespace; one result object per probe. */
export async function sendProbes(topo: Topology, from: Host, probes: Probe[]): Promise<Record<string, unknown>[]> {
  const r = must(await exec([PYTHON, `${PEERS}/probe.py`, JSON.stringify(probes)], { ns: topo.ns[from], timeoutMs: 5000 }), `probe.py on ${from}`);

  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Sends the probes, then a barrier per family, and returns which tags the
 * sniffer saw (each probe's packets, by its tag). */
export async function probe(topo: Topology, from: Host, sniffer: Sniffer, probes: Probe[]): Promise<Map<string, Packet[]>> {
  const families = new Set(probes.map((p) => (p.dst.includes(':') ? 6 : 4) as Family));
  const barriers = [...families].map((f) => ({ kind: 'icmp' as const, dst: hostAddress(sniffer.host, f), tag: newTag(`barrier${f}`), count: 2, every: 50 }));

  await sendProbes(topo, from, [...probes, ...barriers]);
  for (const b of barriers) {
    if (!(await sniffer.waitTag(`${b.tag}.1`, 10_000))) throw new Error(`the barrier ping ${from} -> ${b.dst} never arrived: the test bed itself is broken`);
  }

  return new Map(probes.map((p) => [p.tag, sniffer.tagged(p.tag)]));
}

export function hostAddress(host: Host, family: Family): string {
  if (host === 'router') return ADDR.router.wan[family];

  return ADDR[host][family];
}

/** Each protocol's complete set, one probe per member, as named in reports. */
export const MEMBERS = {
  pptp: ['tcp/1723', 'gre'],
  l2tp: ['udp/1701'],
  ipsec: ['udp/500', 'udp/4500', 'esp', 'ah'],
} as const;

export type ProtocolName = keyof typeof MEMBERS;
export type Member = (typeof MEMBERS)[ProtocolName][number];

function memberProbe(member: Member, dst: string, tag: string): Probe {
  const [kind, port] = member.split('/') as [ProbeKind, string | undefined];

  // A tcp probe's SYN (with its tag) is on the wire at once; nobody needs to wait for the answer.
  return { kind, dst, tag, ...(port ? { port: Number(port) } : {}), ...(kind === 'gre' ? { key: 0x77 } : {}), ...(kind === 'tcp' ? { timeout: 0 } : {}) };
}

export const ALL: readonly ProtocolName[] = ['pptp', 'l2tp', 'ipsec'];

/** What got through, by "<protocol> <member> v<family>": { 'ipsec esp v6': false, ... }. */
export type Reach = Record<string, boolean>;

const key = (protocol: ProtocolName, member: Member, family: Family) => `${protocol} ${member} v${family}`;

/** Sends one probe per member of each protocol's set, per family, from a
 * host to the sniffing host, in one batch; tells which arrived. Raw ESP, AH
 * and GRE have no ports: once masqueraded, a second inside host's packets to
 * the same server collide with the first one's conntrack entry and NAT drops
 * them, so flush conntrack before probing from the other client. */
export async function reach(topo: Topology, sniffer: Sniffer, from: Host, protocols: readonly ProtocolName[] = ALL, families: readonly Family[] = [4, 6]): Promise<Reach> {
  const probes = protocols.flatMap((protocol) =>
    families.flatMap((family) => MEMBERS[protocol].map((member) => ({ k: key(protocol, member, family), p: memberProbe(member, hostAddress(sniffer.host, family), newTag(`${protocol}-${member}-${from}-v${family}`)) }))),
  );
  const arrived = await probe(topo, from, sniffer, probes.map((x) => x.p));

  return Object.fromEntries(probes.map((x) => [x.k, arrived.get(x.p.tag)!.length > 0]));
}

/** The Reach a rule predicts: pass(protocol, family, member) for each probe reach() sends. */
export function expectReach(pass: (protocol: ProtocolName, family: Family, member: Member) => boolean, protocols: readonly ProtocolName[] = ALL, families: readonly Family[] = [4, 6]): Reach {
  return Object.fromEntries(protocols.flatMap((protocol) => families.flatMap((family) => MEMBERS[protocol].map((member) => [key(protocol, member, family), pass(protocol, family, member)]))));
}

/** The probes whose fate differs from the expectation, in words. */
export function wrong(actual: Reach, expected: Reach): string[] {
  return Object.keys(expected)
    .filter((k) => actual[k] !== expected[k])
    .map((k) => `${k}: ${actual[k] ? 'got through' : 'was dropped'}, should ${expected[k] ? 'pass' : 'be dropped'}`);
}

/** Fails naming each probe that did not do what was expected. */
export function assertReach(actual: Reach, expected: Reach, label: string): void {
  assert.equal(wrong(actual, expected), [], label);
}
