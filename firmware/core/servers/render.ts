// The servers' part of the ruleset, as text for render.ts to place, and the
// rules that go into firewall4's own table.
//
// In our table (inet vpn_passthrough):
//   server_dnat (nat prerouting, dstnat - 1, before fw4's port forwards):
//     packets from the outside devices to the router's own IPv4 address
//     (fib daddr type local) for a server's members are DNATed to its host,
//     counted per server; from sources off its allow list only counted.
//   pptp_helper gets one more rule: the pptp helper for TCP 1723 arriving
//     from outside for the router, so each call's GRE finds its way back and
//     forth with the Call-IDs translated.
//   <proto>_traffic starts with the exemptions: a server's own flows are not
//     passthrough, whatever the switches say (server_flows4/6: host . proto .
//     port). IPv6 to a host6 goes through srv_<id>_in6, which drops sources
//     off the allow list (fw4's defaults accept ESP and UDP 500 to any inside
//     host) and counts new connections.
// In firewall4's table (chain vpn_passthrough_forward, jumped to from fw4's
// forward chain for new connections by our chain-pre include): accepts for
// exactly these flows to exactly these hosts. An accept in our table cannot
// overrule fw4's rejects; fw4's own chain can.

import { memberParts, type Member } from './sets.ts';
import type { ServerPlan, ServersPlan } from './plan.ts';

export const FW4_CHAIN = 'vpn_passthrough_forward';

const quote = (s: string) => `"${s}"`;

function element(m: Member): string {
  const { proto, port } = memberParts(m);

  return `${proto} . ${port ?? '0-65535'}`;
}

const members = (s: ServerPlan) => `meta l4proto . th dport { ${s.members.map(element).join(', ')} }`;

function set(name: string, type: string, elements: string[]): string {
  return `\tset ${name} { type ${type}; flags interval; elements = { ${elements.join(', ')} }; }`;
}

/** Per server: connections let in, and (with an allow list) packets refused. */
export function serverCounters(sp: ServersPlan): string[] {
  return sp.list.flatMap((s) => [`\tcounter ${s.id} {}`, ...(s.allow4 !== null ? [`\tcounter ${s.id}_refused {}`] : [])]);
}

/** Sets and maps, inside our table's declarations. */
export function serverSets(sp: ServersPlan): string[] {
  const v4 = sp.list.filter((s) => s.host !== null);
  const v6 = sp.list.filter((s) => s.host6 !== null);
  const flows = (list: ServerPlan[], host: 'host' | 'host6', verdict?: (s: ServerPlan) => string) =>
    list.flatMap((s) => s.members.map((m) => `${s[host]} . ${element(m)}${verdict ? ` : ${verdict(s)}` : ''}`));

  return [
    ...(v4.length ? [set('server_flows4', 'ipv4_addr . inet_proto . inet_service', flows(v4, 'host'))] : []),
    ...(v6.length
      ? [
          set('server_flows6', 'ipv6_addr . inet_proto . inet_service', flows(v6, 'host6')),
          `\tmap server_in6 { type ipv6_addr . inet_proto . inet_service : verdict; flags interval; elements = { ${flows(v6, 'host6', (s) => `goto ${s.id}_in6`).join(', ')} }; }`,
        ]
      : []),
    ...sp.list.flatMap((s) => [
      ...(s.allow4?.length ? [set(`${s.id}_allow4`, 'ipv4_addr', s.allow4)] : []),
      ...(s.allow6?.length ? [set(`${s.id}_allow6`, 'ipv6_addr', s.allow6)] : []),
    ]),
  ];
}

/** The pptp_helper chain's rule for PPTP arriving at the router from outside. */
export function serverHelperRules(sp: ServersPlan): string[] {
  return sp.helper ? ['\t\ttcp dport 1723 iifname @outside meta nfproto ipv4 fib daddr type local ct state new ct helper set "pptp"'] : [];
}

/** The first rules of a passthrough protocol's traffic chain: a server's
 * own flows leave it before any switch can drop them. */
export function serverExemptions(sp: ServersPlan, chainMembers: readonly Member[]): string[] {
  const here = sp.list.filter((s) => s.members.some((m) => chainMembers.includes(m)));

  return [
    ...(here.some((s) => s.host !== null) ? ['\t\tip daddr . meta l4proto . th dport @server_flows4 accept', '\t\tip saddr . meta l4proto . th sport @server_flows4 accept'] : []),
    ...(here.some((s) => s.host6 !== null) ? ['\t\tip6 daddr . meta l4proto . th dport vmap @server_in6', '\t\tip6 saddr . meta l4proto . th sport @server_flows6 accept'] : []),
  ];
}

function dnatRules(s: ServerPlan): string[] {
  const counted = (name: string) => `counter name ${quote(name)}`;
  const refused = s.allow4 !== null ? [`\t\t${members(s)} ${counted(`${s.id}_refused`)}`] : [];

  if (s.allow4?.length === 0) return refused;
  const from = s.allow4 ? ` ip saddr @${s.id}_allow4` : '';

  return [`\t\t${members(s)}${from} ${counted(s.id)} dnat ip to ${s.host}`, ...refused];
}

/** The chains: IPv4 DNAT, and per IPv6 server its allow list and counter. */
export function serverChains(sp: ServersPlan): string[] {
  const v4 = sp.list.filter((s) => s.host !== null);
  const lines: string[] = [];

  if (v4.length > 0) {
    lines.push(
      '\tchain server_dnat {',
      '\t\ttype nat hook prerouting priority dstnat - 1; policy accept;',
      '\t\tiifname != @outside return',
      '\t\tmeta nfproto != ipv4 return',
      '\t\tfib daddr type != local return',
      ...v4.flatMap(dnatRules),
      '\t}',
      '',
    );
  }
  for (const s of sp.list.filter((x) => x.host6 !== null)) {
    const refuse = s.allow6 === null ? [] : [`\t\t${s.allow6.length ? `ip6 saddr != @${s.id}_allow6 ` : ''}counter name ${quote(`${s.id}_refused`)} drop`];

    lines.push(`\tchain ${s.id}_in6 {`, '\t\tct direction reply accept', ...refuse, `\t\tct state new counter name ${quote(s.id)}`, '\t\taccept', '\t}', '');
  }

  return lines;
}

/** The accepts in firewall4's chain, one rule per server and family. */
export function fw4Rules(sp: ServersPlan, outside: readonly string[]): string[] {
  const iif = `iifname { ${outside.map(quote).join(', ')} }`;
  const comment = (s: ServerPlan) => `comment ${quote(`vpn-passthrough: server ${s.name} (${s.protocol})`)}`;
  const sources = (kw: string, list: string[] | null) => (list ? ` ${kw} { ${list.join(', ')} }` : '');

  return sp.list.flatMap((s) => [
    ...(s.host !== null && s.allow4?.length !== 0 ? [`${iif} ct status dnat ip daddr ${s.host}${sources('ip saddr', s.allow4)} ${members(s)} accept ${comment(s)}`] : []),
    ...(s.host6 !== null && s.allow6?.length !== 0 ? [`${iif} ip6 daddr ${s.host6}${sources('ip6 saddr', s.allow6)} ${members(s)} accept ${comment(s)}`] : []),
  ]);
}

/** The dynamic include file's text (fw4 includes it into its chain on every start and reload). */
export function fw4File(rules: readonly string[]): string {
  return ['# vpn-passthrough: VPN servers behind this router. Written by every apply; do not edit.', ...rules, ''].join('\n');
}

/** A script without what fw4Transaction appended to it: our table alone. */
export function withoutFw4Transaction(script: string): string {
  const at = script.indexOf(`\nflush chain inet fw4 ${FW4_CHAIN}\n`);

  return at < 0 ? script : script.slice(0, at + 1);
}

/** The statements that replace the chain's rules in our transaction (the chain must exist). */
export function fw4Transaction(rules: readonly string[]): string {
  const body = rules.length ? ['table inet fw4 {', `\tchain ${FW4_CHAIN} {`, ...rules.map((r) => `\t\t${r}`), '\t}', '}'] : [];

  return [`flush chain inet fw4 ${FW4_CHAIN}`, ...body, ''].join('\n');
}
