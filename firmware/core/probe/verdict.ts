// What the current settings do to one inside host's traffic of each
// protocol to one server, and what the sessions say about it: pure, over the
// validated config, the plan the rules are rendered from, and the sessions.
// The order of the checks is the ruleset's: master switch, protocol off,
// family, host list.

import type { Config } from '../config.ts';
import { warning, type Diagnostic } from '../diag.ts';
import type { HelperState, ProtocolName, Session } from '../model.ts';
import { parseIPv4 } from '../net/addr.ts';
import type { Plan, ProtocolPlan } from '../plan.ts';
import { addressBytes, contains, type Prefix } from '../sessions/scope.ts';
import type { EspSender } from '../sessions/warnings.ts';
import type { HostVerdict, InsideHost } from './report.ts';

export interface VerdictInputs {
  config: Config;
  plan: Plan;
  helper: HelperState;
  /** Our table is in the kernel now (else firewall4 alone decides). */
  applied: boolean;
  /** The server's address. */
  server: string;
  host: InsideHost;
  sessions: readonly Session[];
  espSenders: readonly EspSender[];
  /** The inside prefixes; null when unknown. */
  inside: readonly Prefix[] | null;
}

const NAME: Record<ProtocolName, string> = { pptp: 'PPTP', l2tp: 'L2TP', ipsec: 'IPsec' };

/** address within entry (an address or a CIDR prefix, as the host list holds them). */
export function inEntry(address: string, entry: string): boolean {
  const [base, length] = entry.split('/') as [string, string | undefined];
  const net = addressBytes(base);
  const bytes = addressBytes(address);

  if (!net || !bytes) return false;

  return contains([{ bytes: net, length: length === undefined ? net.length * 8 : Number(length) }], bytes);
}

function verdictFor(p: ProtocolPlan, inputs: VerdictInputs): HostVerdict {
  const { config, host } = inputs;
  const name = NAME[p.name];
  const family = parseIPv4(inputs.server) ? 'ipv4' : 'ipv6';
  const field = (option: string) => `vpn-passthrough.${p.name}.${option}`;

  if (!inputs.plan.table) {
    return { passes: true, code: 'control_off', field: 'vpn-passthrough.globals.enabled', value: '0', message: 'passthrough control is off: firewall4 alone decides, and it forwards VPN traffic from inside' };
  }
  if (!config.protocols[p.name].enabled) return { passes: false, code: 'protocol_off', field: field('enabled'), value: '0', message: `${name} passthrough is off` };
  if (p.dropFamily === family) {
    return { passes: false, code: 'family_blocked', field: field('family'), value: config.protocols[p.name].family, message: `${name} is allowed over ${family === 'ipv4' ? 'IPv6' : 'IPv4'} only, and this server is an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address` };
  }
  if (!p.hosts) return { passes: true, code: 'all_hosts', message: `every inside host may use ${name}${p.dropFamily ? ` over ${family === 'ipv4' ? 'IPv4' : 'IPv6'}` : ''}` };

  const list = config.protocols[p.name].hosts.map((h) => h.text).join(' ');
  const entries = family === 'ipv4' ? p.hosts.ipv4 : p.hosts.ipv6;
  const addresses = family === 'ipv4' ? host.ipv4 : host.ipv6;
  const byAddress = addresses.flatMap((a) => entries.filter((e) => inEntry(a, e)).map((e) => ({ a, e })))[0];
  const byMac = host.macs.find((m) => p.hosts!.mac.includes(m));

  if (byAddress) return { passes: true, code: 'host_listed', field: field('host'), value: byAddress.e, message: `${byAddress.a} is in the ${name} host list (${byAddress.e})` };
  if (byMac) return { passes: true, code: 'host_listed', field: field('host'), value: byMac, message: `its MAC ${byMac} is in the ${name} host list` };

  const fam = family === 'ipv4' ? 'IPv4' : 'IPv6';
  const unknown = [
    ...(addresses.length === 0 && entries.length > 0 ? [`its ${fam} address`] : []),
    ...(host.macs.length === 0 && p.hosts.mac.length > 0 ? ['its MAC address'] : []),
  ];

  if (unknown.length > 0) {
    return { passes: null, code: 'host_unknown', field: field('host'), value: list, message: `the ${name} host list allows only ${list}, and this router does not know ${unknown.join(' or ')} (it has not been seen lately)` };
  }

  return { passes: false, code: 'host_not_listed', field: field('host'), value: list, message: `${host.given} is not in the ${name} host list (${list})` };
}

function sessionWarnings(protocols: readonly ProtocolName[], inputs: VerdictInputs, verdicts: Partial<Record<ProtocolName, HostVerdict>>): Diagnostic[] {
  const { host, server } = inputs;
  const out: Diagnostic[] = [];
  const mine = new Set([...host.ipv4, ...host.ipv6]);
  const others = (list: readonly { inside: string; outside: string }[]) => [...new Set(list.filter((s) => s.outside === server && !mine.has(s.inside)).map((s) => s.inside))].sort();
  const ipv4 = parseIPv4(server) !== null;

  // Raw ESP has no ports: through NAT one inside host per server. The loser
  // leaves no conntrack entry, which is why our esp_senders set is read too.
  if (protocols.includes('ipsec') && ipv4 && verdicts.ipsec?.passes !== false) {
    const esp = others([...inputs.sessions.filter((s) => s.transport === 'esp'), ...inputs.espSenders]);

    if (esp.length > 0) {
      out.push({ ...warning('esp_in_use', `${esp.join(', ')} already ${esp.length === 1 ? 'sends' : 'send'} raw ESP to ${server}: if ${host.given} uses raw ESP too, only one of them can work through NAT. Make the VPN client on ${host.given} use NAT-T (UDP 4500), e.g. force UDP encapsulation.`, 'vpn-passthrough.ipsec', server), hosts: esp });
    }
  }

  const pptp = verdicts.pptp;

  if (protocols.includes('pptp') && ipv4 && pptp?.passes !== false && inputs.plan.table) {
    const users = others(inputs.sessions.filter((s) => s.protocol === 'pptp'));

    if (!inputs.plan.pptpHelper || inputs.helper === 'missing') {
      out.push({ ...warning('pptp_helper_missing', `the PPTP conntrack helper is not attached${inputs.helper === 'missing' ? ' (nf_conntrack_pptp is not in the kernel: install kmod-nf-nathelper-extra)' : ''}: PPTP passes without Call-ID NAT, so only one inside client at a time can use ${server}${users.length ? `, and ${users.join(', ')} already ${users.length === 1 ? 'does' : 'do'}` : ''}.`, 'vpn-passthrough.pptp.enabled', '1'), ...(users.length ? { hosts: users } : {}) });
    }
  }

  return out;
}

export function hostVerdicts(protocols: readonly ProtocolName[], inputs: VerdictInputs): { verdicts: Partial<Record<ProtocolName, HostVerdict>>; warnings: Diagnostic[] } {
  const verdicts: Partial<Record<ProtocolName, HostVerdict>> = {};

  for (const p of inputs.plan.protocols) if (protocols.includes(p.name)) verdicts[p.name] = verdictFor(p, inputs);

  const warnings: Diagnostic[] = [];
  const { host, inside } = inputs;
  const addresses = [...host.ipv4, ...host.ipv6];

  if (inputs.config.enabled && !inputs.applied) {
    warnings.push(warning('rules_not_loaded', "the rules are not loaded right now, so firewall4 alone decides (VPN traffic passes) until the service applies the settings: these verdicts are what the settings will do", 'vpn-passthrough.globals.enabled', '1'));
  }
  if (inside && addresses.length > 0 && !addresses.some((a) => contains(inside, addressBytes(a) ?? []))) {
    warnings.push(warning('host_not_inside', `${host.given} is not on an inside network of this router: passthrough applies only to hosts inside`, undefined, host.given));
  }
  if (inside && contains(inside, addressBytes(inputs.server) ?? [])) {
    warnings.push(warning('probe_server_inside', `${inputs.server} is on an inside network: its traffic never crosses to the outside, so passthrough does not apply`, undefined, inputs.server));
  }

  return { verdicts, warnings: [...warnings, ...sessionWarnings(protocols, inputs, verdicts)] };
}
