// The shapes every part of the program agrees on: the protocols, what
// `status` reports (CLI --json, ubus `status`, LuCI) and what `sessions`
// reports (CLI --json, ubus `sessions`, LuCI). Field names are snake_case,
// as ubus and LuCI expect.

import type { Diagnostic } from './diag.ts';

export type ProtocolName = 'pptp' | 'l2tp' | 'ipsec';
export const PROTOCOLS: readonly ProtocolName[] = ['pptp', 'l2tp', 'ipsec'];

export type Family = 'any' | 'ipv4' | 'ipv6';
export const FAMILIES: readonly Family[] = ['any', 'ipv4', 'ipv6'];

export interface Counter {
  packets: number;
  bytes: number;
}

export interface ProtocolStatus {
  /** Its own switch. Whether its rules are in force also takes the master
   * switch (Status.enabled): with that off, everything passes. */
  enabled: boolean;
  family: Family;
  /** Allowed inside hosts; empty = every inside host. */
  hosts: string[];
  /** Since the last apply (kernel counters): connections let through
   * (packets = connections, bytes = their first packets' bytes), and
   * packets dropped. */
  passed: Counter;
  dropped: Counter;
}

/** How the PPTP conntrack helper stands in the kernel. */
export type HelperState = 'loaded' | 'builtin' | 'missing' | 'unknown';

export interface LastApply {
  /** Unix time, seconds. */
  time: number;
  ok: boolean;
  duration_ms: number;
  diagnostics: Diagnostic[];
}

/** A VPN server behind the router (a `config server` section). */
export interface ServerStatus {
  /** The section's name (`@server[N]` when anonymous). */
  name: string;
  enabled: boolean;
  protocol: ProtocolName | null;
  host: string | null;
  host6: string | null;
  /** Outside sources allowed in; empty = any. */
  allow: string[];
  /** What is forwarded to it, e.g. "UDP 500 + UDP 4500 + ESP". */
  forwards: string;
  /** Its rules are in the kernel now. */
  active: boolean;
  /** Since the last apply: connections let in (packets = connections,
   * bytes = their first packets' bytes), and packets refused because their
   * source is not on the allow list. */
  connections: Counter;
  refused: Counter;
}

/** Our rules put back after something took them from the kernel. */
export interface Restore {
  /** Unix time, seconds. */
  time: number;
  /** Who noticed: 'watchdog' (nft monitor), 'firewall4' (its include after
   * a start or reload), 'start', 'SIGHUP', 'ubus apply', 'apply' (the command)... */
  trigger: string;
  /** What the kernel had lost: "table inet vpn_passthrough is gone". */
  lost: string;
  /** What the watchdog saw happen, when it noticed: "delete table inet
   * vpn_passthrough (by process 4242 (nft))". */
  event?: string;
}

export interface Restores {
  /** Since boot. */
  count: number;
  /** The newest first, at most 10. */
  recent: Restore[];
}

export interface Status {
  version: string;
  /** The master switch (globals.enabled). */
  enabled: boolean;
  /** Our table is in the kernel now. */
  applied: boolean;
  log: boolean;
  inside: { zones: string[]; devices: string[] };
  outside: { zones: string[]; devices: string[] };
  helper: { pptp: HelperState };
  protocols: Record<ProtocolName, ProtocolStatus>;
  /** VPN servers behind this router. */
  servers: ServerStatus[];
  last_apply: LastApply | null;
  /** Times the kernel lost our rules and they were put back. */
  restores: Restores;
  /** What the current configuration says about itself (errors, warnings). */
  diagnostics: Diagnostic[];
}

export interface Session {
  protocol: ProtocolName;
  /** Inside host address, before NAT. */
  inside: string;
  /** The VPN server outside. */
  outside: string;
  /** How it travels: 'control', 'gre', 'ike', 'nat-t', 'esp', 'ah', 'l2tp'. */
  transport: string;
  /** A conntrack helper is attached (true/false), or cannot be known (null). */
  helper: boolean | null;
  /** Counters when conntrack accounting is on, else null. */
  packets: number | null;
  bytes: number | null;
  /** Seconds since the flow started, when known. */
  age: number | null;
  /** The inside host's source port and the server's port (TCP/UDP), else null. */
  inside_port: number | null;
  outside_port: number | null;
  /** PPTP GRE: the Call IDs in the keys. client: the inside client's own (null
   * when no helper saw the call), server: the server's, translated: the one
   * the server uses towards us (the helper's Call-ID NAT; null if none). */
  call_ids: { client: number | null; server: number; translated: number | null } | null;
  /** The server has answered (conntrack has seen the reply direction). */
  replied: boolean;
}

export interface SessionsReport {
  sessions: Session[];
  /** Collisions, control without GRE, drops of disabled protocols... */
  warnings: Diagnostic[];
  /** Conntrack lines that could not be parsed and were skipped. */
  skipped: number;
  /** Conntrack entries read (every protocol). */
  entries: number;
  /** Where the table came from: /proc/net/nf_conntrack, `conntrack -L`, or a saved file. */
  source: string;
  /** What this router's conntrack keeps (its sysctls), null when unknown
   * (a saved table): byte counts (traffic) and start times (age). */
  conntrack?: { accounting: boolean | null; timestamps: boolean | null };
}
