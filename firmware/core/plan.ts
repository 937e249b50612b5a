// Config + devices + kernel facts → a Plan: every decision taken, so that
// rendering is a plain walk (firewall4's "decide before rendering").

import type { Config } from './config.ts';
import { error, warning, type Diagnostic } from './diag.ts';
import { PROTOCOLS, type HelperState, type ProtocolName } from './model.ts';
import type { Devices } from './zones.ts';
import { planServers, type ServersPlan } from './servers/plan.ts';

/** What one protocol's ports and IP protocols are: complete sets, no leak. */
export const MATCHES: Record<ProtocolName, { tcp: number[]; udp: number[]; ip: string[]; summary: string }> = {
  pptp: { tcp: [1723], udp: [], ip: ['gre'], summary: 'TCP 1723 + GRE' },
  l2tp: { tcp: [], udp: [1701], ip: [], summary: 'UDP 1701' },
  ipsec: { tcp: [], udp: [500, 4500], ip: ['esp', 'ah'], summary: 'UDP 500 + UDP 4500 + ESP + AH' },
};

export type Verdict = 'pass' | 'drop' | 'filter';

export interface HostSets {
  ipv4: string[];
  ipv6: string[];
  mac: string[];
}

export interface ProtocolPlan {
  name: ProtocolName;
  /** Inside → outside packets of sessions inside hosts start. */
  outbound: Verdict;
  /** Outside → inside replies of those sessions. */
  inbound: Verdict;
  /** The IP family dropped in both directions, if one is. */
  dropFamily: 'ipv4' | 'ipv6' | null;
  /** Inside hosts allowed to start sessions; null = all. */
  hosts: HostSets | null;
  /** Child connections (PPTP's GRE) come from a conntrack expectation. */
  expected: boolean;
  /** Can drop anything (so it needs its drop counter chain). */
  drops: boolean;
}

export interface Plan {
  /** false: the master switch is off, our table is removed. */
  table: boolean;
  log: boolean;
  devices: Devices;
  /** Attach the pptp conntrack helper to TCP 1723 (IPv4). */
  pptpHelper: boolean;
  /** Remember which inside host sends raw ESP to which server (sessions). */
  recordEsp: boolean;
  /** Something can be dropped, so established packets must be classified
   * too; when everything passes only new connections are (for the counters). */
  classifyEstablished: boolean;
  protocols: ProtocolPlan[];
  /** VPN servers behind the router (core/servers). */
  servers: ServersPlan;
}

function protocolPlan(name: ProtocolName, config: Config): ProtocolPlan {
  const p = config.protocols[name];
  const hosts = p.hosts.length === 0 ? null : {
    ipv4: p.hosts.filter((h) => h.kind === 'ipv4').map((h) => h.text),
    ipv6: p.hosts.filter((h) => h.kind === 'ipv6').map((h) => h.text),
    mac: p.hosts.filter((h) => h.kind === 'mac').map((h) => h.text),
  };
  const dropFamily = p.family === 'ipv4' ? 'ipv6' : p.family === 'ipv6' ? 'ipv4' : null;

  if (!p.enabled) return { name, outbound: 'drop', inbound: 'drop', dropFamily: null, hosts: null, expected: name === 'pptp', drops: true };

  return {
    name,
    outbound: dropFamily || hosts ? 'filter' : 'pass',
    // Replies can only be checked by family: a MAC is not on them.
    inbound: dropFamily ? 'filter' : 'pass',
    dropFamily,
    hosts,
    expected: name === 'pptp',
    drops: dropFamily !== null || hosts !== null,
  };
}

export function plan(config: Config, devices: Devices, helper: HelperState): { plan: Plan; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const pptp = config.protocols.pptp;
  const wantsHelper = config.enabled && pptp.enabled && pptp.family !== 'ipv6';

  if (wantsHelper && helper === 'missing') {
    diagnostics.push(
      warning('pptp_helper_missing', 'the PPTP conntrack helper (nf_conntrack_pptp) is not in the kernel: install kmod-nf-nathelper-extra; until then PPTP passes without Call-ID NAT, so only one inside client can use a given PPTP server', 'vpn-passthrough.pptp.enabled', '1'),
    );
  }
  if (config.enabled && devices.inside.length === 0) diagnostics.push(error('no_inside_devices', 'the inside zones have no devices: nothing to pass through', 'vpn-passthrough.globals.lan_zone', config.lanZones.join(' ')));
  if (config.enabled && devices.outside.length === 0) diagnostics.push(error('no_outside_devices', 'the outside zones have no devices: nothing to pass through', 'vpn-passthrough.globals.wan_zone', config.wanZones.join(' ')));

  const protocols = PROTOCOLS.map((name) => protocolPlan(name, config));
  const servers = planServers(config.servers, config.enabled, helper);

  diagnostics.push(...servers.diagnostics);

  return {
    plan: {
      table: config.enabled,
      log: config.log,
      devices,
      pptpHelper: wantsHelper && helper !== 'missing',
      recordEsp: config.protocols.ipsec.enabled && config.protocols.ipsec.family !== 'ipv6',
      classifyEstablished: protocols.some((p) => p.drops),
      protocols,
      servers: servers.servers,
    },
    diagnostics,
  };
}
