// Plan → the nft script that replaces our table in one transaction. Pure
// text: `vpn-passthrough render` prints it, apply hands it to `nft -f`.
//
// Shape of the table (in every hook, established non-VPN traffic costs one rule):
//   forward (filter - 1) jumps to classify, which sends VPN packets to
//     their protocol's chain: TCP and UDP by the server's port, which is
//     the destination port of the connection's original direction (ct
//     original proto-dst: an inside host's own source port 500 is not
//     IPsec), GRE, ESP and AH by IP protocol; packets conntrack has no
//     entry for (untracked, invalid) by the ports either way round; anything
//     else falls through. When every protocol passes, only new connections
//     are classified (to count them), so established traffic pays one
//     conntrack-state compare; once something can be dropped, every packet
//     is classified, established and untracked ones too.
//   <proto>_traffic: splits inside→outside packets of sessions inside hosts
//     start from their replies, by device and conntrack direction; PPTP's
//     GRE (a conntrack expectation) by device; packets conntrack refused
//     (e.g. IPv6 AH with no next header) count as going out.
//   <proto>_out / _in: family and host filters; <proto>_drop counts (packets)
//     and logs; <proto>_pass counts (connections).
//   pptp_helper (prerouting, mangle) / pptp_helper_local (output, mangle):
//     attach the pptp helper to new TCP 1723 connections, after conntrack
//     (-200) and before it confirms them, for inside hosts and the router.
//   server_*: VPN servers behind the router (DNAT, their exemption from the
//     switches, counters): see core/servers/render.ts.

import { MATCHES, type HostSets, type Plan, type ProtocolPlan } from './plan.ts';
import { serverChains, serverCounters, serverExemptions, serverHelperRules, serverSets } from './servers/render.ts';
import { PASSTHROUGH_OF, type Member } from './servers/sets.ts';

export const TABLE = 'vpn_passthrough';

const quote = (s: string) => `"${s}"`;

function set(name: string, type: string, elements: string[], interval: boolean): string {
  const flags = interval ? ' flags interval; auto-merge;' : '';
  const items = elements.length > 0 ? ` elements = { ${elements.join(', ')} };` : '';

  return `\tset ${name} { type ${type};${flags}${items} }`;
}

/** `a : goto x, b : goto y`, one per line, for a vmap body. */
const entries = (list: string[]) => list.map((e, i) => `\t\t\t${e}${i < list.length - 1 ? ',' : ''}`);

function classifier(plan: Plan): string[] {
  const byPort: Record<'tcp' | 'udp', string[]> = { tcp: [], udp: [] };
  const byProto: string[] = [];
  const untracked: string[] = [];
  const any = '0-65535';

  for (const p of plan.protocols) {
    const { tcp, udp, ip } = MATCHES[p.name];

    for (const [proto, ports] of [['tcp', tcp], ['udp', udp]] as const) {
      for (const port of ports) {
        byPort[proto].push(`${port} : goto ${p.name}_traffic`);
        untracked.push(`${proto} . ${port} . ${any} : goto ${p.name}_traffic`, `${proto} . ${any} . ${port} : goto ${p.name}_traffic`);
      }
    }
    for (const proto of ip) byProto.push(`${proto} : goto ${p.name}_traffic`);
  }
  const sortedPorts = (list: string[]) => [...list].sort((a, b) => parseInt(a) - parseInt(b));

  return [
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter - 1; policy accept;',
    `\t\t${plan.classifyEstablished ? '' : 'ct state new '}jump classify`,
    '\t}',
    '',
    '\tchain classify {',
    // The server's port is the destination port of the connection's
    // original direction, whichever way the packet goes.
    ...(['tcp', 'udp'] as const).flatMap((proto) => [`\t\tmeta l4proto ${proto} ct original proto-dst vmap {`, ...entries(sortedPorts(byPort[proto])), '\t\t}']),
    '\t\tmeta l4proto vmap {',
    ...entries(byProto),
    '\t\t}',
    // No conntrack entry, no original direction: the server's port is the
    // destination going out, the source of replies.
    ...(plan.classifyEstablished ? ['\t\tct state invalid,untracked meta l4proto . th dport . th sport vmap {', ...entries(untracked), '\t\t}'] : []),
    '\t}',
    '',
  ];
}

/** The statement that ends a packet's way through one direction. */
function verdict(p: ProtocolPlan, v: 'pass' | 'drop' | 'filter', chain: string): string {
  return v === 'pass' ? `goto ${p.name}_pass` : v === 'drop' ? `goto ${p.name}_drop` : `goto ${chain}`;
}

function protocolChains(p: ProtocolPlan, plan: Plan): string[] {
  const name = p.name;
  const out = verdict(p, p.outbound, `${name}_out`);
  const back = verdict(p, p.inbound, `${name}_in`);
  const lines = [`\tchain ${name}_traffic {`, ...serverExemptions(plan.servers, (Object.keys(PASSTHROUGH_OF) as Member[]).filter((m) => PASSTHROUGH_OF[m] === name))];

  if (p.expected) {
    lines.push(`\t\tct status expected iifname @inside oifname @outside ${out}`, `\t\tct status expected iifname @outside oifname @inside ${back}`);
  }
  if (name === 'ipsec' && plan.recordEsp) {
    // Who sends raw ESP where: two inside hosts to one server collide at
    // the NAT and the loser leaves no conntrack entry (see sessions).
    lines.push('\t\tiifname @inside oifname @outside meta l4proto esp update @esp_senders { ip saddr . ip daddr }');
  }
  lines.push(`\t\tiifname @inside oifname @outside ct direction original ${out}`, `\t\tiifname @outside oifname @inside ct direction reply ${back}`);
  if (p.outbound !== 'pass') lines.push(`\t\tiifname @inside oifname @outside ct state invalid,untracked ${out}`);
  lines.push('\t}', '');

  const familyRule = p.dropFamily ? [`\t\tmeta nfproto ${p.dropFamily} goto ${name}_drop`] : [];

  if (p.outbound === 'filter') {
    lines.push(`\tchain ${name}_out {`, ...familyRule);
    if (p.hosts) {
      lines.push(...hostRules(name, p.hosts), `\t\tgoto ${name}_drop`);
    } else {
      lines.push(`\t\tgoto ${name}_pass`);
    }
    lines.push('\t}', '');
  }
  if (p.inbound === 'filter') lines.push(`\tchain ${name}_in {`, ...familyRule, `\t\tgoto ${name}_pass`, '\t}', '');
  // What passes is counted in connections: their first packets.
  if (p.outbound !== 'drop') lines.push(`\tchain ${name}_pass {`, `\t\tct state new counter name ${quote(`${name}_pass`)}`, '\t}', '');
  if (p.drops) {
    lines.push(`\tchain ${name}_drop {`);
    if (plan.log) lines.push(`\t\tlimit rate 10/minute burst 5 packets log prefix ${quote(`vpn-passthrough: drop ${name}: `)} level info`);
    lines.push(`\t\tcounter name ${quote(`${name}_drop`)} drop`, '\t}', '');
  }

  return lines;
}

function hostRules(name: string, hosts: HostSets): string[] {
  const pass = `goto ${name}_pass`;

  return [
    ...(hosts.ipv4.length ? [`\t\tip saddr @${name}_hosts4 ${pass}`] : []),
    ...(hosts.ipv6.length ? [`\t\tip6 saddr @${name}_hosts6 ${pass}`] : []),
    ...(hosts.mac.length ? [`\t\tether saddr @${name}_hosts_mac ${pass}`] : []),
  ];
}

function hostSets(p: ProtocolPlan): string[] {
  if (!p.hosts) return [];

  return [
    ...(p.hosts.ipv4.length ? [set(`${p.name}_hosts4`, 'ipv4_addr', p.hosts.ipv4, true)] : []),
    ...(p.hosts.ipv6.length ? [set(`${p.name}_hosts6`, 'ipv6_addr', p.hosts.ipv6, true)] : []),
    ...(p.hosts.mac.length ? [set(`${p.name}_hosts_mac`, 'ether_addr', p.hosts.mac, false)] : []),
  ];
}

function helperChains(plan: Plan): string[] {
  if (!plan.pptpHelper && !plan.servers.helper) return [];

  // Cheapest test first: most packets are not TCP to port 1723.
  const attach = 'tcp dport 1723 meta nfproto ipv4 ct state new ct helper set "pptp"';

  return [
    '\tct helper pptp { type "pptp" protocol tcp; l3proto ip; }',
    '',
    '\tchain pptp_helper {',
    '\t\ttype filter hook prerouting priority mangle; policy accept;',
    ...(plan.pptpHelper ? [`\t\t${attach.replace('tcp dport 1723 ', 'tcp dport 1723 iifname @inside ')}`] : []),
    ...serverHelperRules(plan.servers),
    '\t}',
    '',
    ...(plan.pptpHelper ? ['\tchain pptp_helper_local {', '\t\ttype filter hook output priority mangle; policy accept;', `\t\t${attach}`, '\t}', ''] : []),
  ];
}

export function render(plan: Plan): string {
  // Create-then-delete makes the replacement work whether or not the table
  // exists; all of it is one nft transaction.
  const head = [`table inet ${TABLE}`, `delete table inet ${TABLE}`];

  if (!plan.table) return head.join('\n') + '\n';

  const interval = (devices: string[]) => devices.some((d) => d.endsWith('*'));
  const body = [
    ...plan.protocols.map((p) => `\tcounter ${p.name}_pass {}`),
    ...plan.protocols.map((p) => `\tcounter ${p.name}_drop {}`),
    ...serverCounters(plan.servers),
    '',
    set('inside', 'ifname', plan.devices.inside.map(quote), interval(plan.devices.inside)),
    set('outside', 'ifname', plan.devices.outside.map(quote), interval(plan.devices.outside)),
    ...(plan.recordEsp ? ['\tset esp_senders { type ipv4_addr . ipv4_addr; flags dynamic, timeout; timeout 5m; }'] : []),
    ...plan.protocols.flatMap(hostSets),
    ...serverSets(plan.servers),
    '',
    ...helperChains(plan),
    ...classifier(plan),
    ...plan.protocols.flatMap((p) => protocolChains(p, plan)),
    ...serverChains(plan.servers),
  ];

  while (body.at(-1) === '') body.pop();

  return [...head, '', `table inet ${TABLE} {`, ...body, '}', ''].join('\n');
}
