// Large conntrack tables in the exact line format of /proc/net/nf_conntrack
// (copied from the router namespace: spacing, the GRE "timeout=30,"
// quirk, full-length IPv6), with a known number of VPN flows among
// ordinary web, DNS and ICMP traffic. Seeded: the same seed, the same table.

import { rng, type Rng } from '../lib/prng.ts';

export const WAN = '10.0.2.15';

const inside = (r: Rng) => `192.168.1.${r.int(2, 250)}`;
const server = (r: Rng) => `${r.int(11, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
const acct = (r: Rng) => `packets=${r.int(1, 5000)} bytes=${r.int(40, 5_000_000)}`;
const v6 = (r: Rng, prefix: string) => `${prefix}:${[0, 0, 0, 0].map(() => r.int(0, 0xffff).toString(16).padStart(4, '0')).join(':')}`;

function tcp(r: Rng, src: string, dst: string, dport: number): string {
  const sport = r.int(32768, 60999);

  return `ipv4     2 tcp      6 ${r.int(1, 431999)} ESTABLISHED src=${src} dst=${dst} sport=${sport} dport=${dport} ${acct(r)} src=${dst} dst=${WAN} sport=${dport} dport=${sport} ${acct(r)} [ASSURED] mark=0 zone=0 use=2`;
}

function udp(r: Rng, src: string, dst: string, sport: number, dport: number, replied = true): string {
  return `ipv4     2 udp      17 ${r.int(1, 180)} src=${src} dst=${dst} sport=${sport} dport=${dport} ${acct(r)}${replied ? '' : ' [UNREPLIED]'} src=${dst} dst=${WAN} sport=${dport} dport=${sport} ${acct(r)}${replied ? ' [ASSURED]' : ''} mark=0 zone=0 use=2`;
}

/** One ordinary (non-VPN) entry. */
function ordinary(r: Rng): string {
  const x = r.next();

  if (x < 0.6) return tcp(r, inside(r), server(r), r.pick([443, 80, 8080, 993, 22]));
  if (x < 0.85) return udp(r, inside(r), r.pick(['1.1.1.1', '8.8.8.8', '9.9.9.9']), r.int(1024, 65535), r.pick([53, 123, 443]));
  if (x < 0.95) {
    const a = v6(r, 'fd00:00ab:00cd:0000');
    const b = v6(r, '2001:0db8:0000:0001');
    const sport = r.int(32768, 60999);

    return `ipv6     10 tcp      6 ${r.int(1, 431999)} ESTABLISHED src=${a} dst=${b} sport=${sport} dport=443 ${acct(r)} src=${b} dst=${a} sport=443 dport=${sport} ${acct(r)} [ASSURED] mark=0 zone=0 use=2`;
  }
  const src = inside(r);
  const dst = server(r);
  const id = r.int(1, 65535);

  return `ipv4     2 icmp     1 ${r.int(1, 30)} src=${src} dst=${dst} type=8 code=0 id=${id} ${acct(r)} src=${dst} dst=${WAN} type=0 code=0 id=${id} ${acct(r)} mark=0 zone=0 use=2`;
}

/** One VPN flow from an inside host (each kind the classifier knows). */
function vpn(r: Rng, n: number): string {
  const src = `192.168.${2 + (n >> 8)}.${n & 0xff}`;
  const dst = `203.0.113.${(n % 250) + 1}`;

  switch (n % 6) {
    case 0: return tcp(r, src, dst, 1723);
    case 1: {
      const client = r.int(1, 65535);
      const srv = r.int(1, 65535);
      const nat = r.int(1024, 65535);

      return `ipv4     2 gre      47 ${r.int(1, 179)} timeout=30, stream_timeout=180 src=${src} dst=${dst} srckey=0x${client.toString(16)} dstkey=0x${srv.toString(16)} ${acct(r)} src=${dst} dst=${WAN} srckey=0x${srv.toString(16)} dstkey=0x${nat.toString(16)} ${acct(r)} [ASSURED] mark=0 zone=0 use=2`;
    }
    case 2: return udp(r, src, dst, 500, 500);
    case 3: return udp(r, src, dst, 4500, 4500);
    case 4: return udp(r, src, dst, 1701, 1701);
    default: return `ipv4     2 unknown  50 ${r.int(1, 599)} src=${src} dst=${dst} ${acct(r)} src=${dst} dst=${WAN} ${acct(r)} [ASSURED] mark=0 zone=0 use=2`;
  }
}

/** `entries` lines, `vpnFlows` of them VPN flows spread evenly through the table. */
export function* generateTable(entries: number, vpnFlows: number, seed = 1): Generator<string> {
  const r = rng(seed);
  const every = vpnFlows > 0 ? Math.floor(entries / vpnFlows) : Infinity;
  let made = 0;

  for (let i = 0; i < entries; i++) {
    if (made < vpnFlows && i % every === every - 1) yield vpn(r, made++);
    else yield ordinary(r);
  }
}

/** The whole table as text (for files and small tests). */
export function tableText(entries: number, vpnFlows: number, seed = 1): string {
  let text = '';

  for (const line of generateTable(entries, vpnFlows, seed)) text += line + '\n';

  return text;
}
