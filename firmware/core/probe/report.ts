// What a probe reports (CLI --json, ubus `probe`, LuCI): per protocol what
// the server said to the router itself, what the settings do to one inside
// host, and the conclusion of the two side by side. Field names are
// snake_case, as ubus and LuCI expect.

import type { Diagnostic } from '../diag.ts';
import type { ProtocolName } from '../model.ts';
import type { IkeReply } from './ike-init.ts';
import type { L2tpReply } from './l2tp.ts';

/** How one exchange ended:
 *  answered     the protocol's answer came back
 *  refused      TCP reset, or ICMP port unreachable: nothing listens there
 *  unreachable  ICMP host/network unreachable, or no route
 *  no_answer    nothing came back within the time limit
 *  closed       the server closed the connection without answering
 *  unexpected   the protocol answered, but not as the opening message asks
 *  malformed    something else speaks on that port
 *  error        this router could not send (the message says why) */
export type Outcome = 'answered' | 'refused' | 'unreachable' | 'no_answer' | 'closed' | 'unexpected' | 'malformed' | 'error';

/** The fields of a Start-Control-Connection-Reply. */
export interface PptpReply {
  message: string;
  result: number;
  result_text: string;
  error: number;
  error_text: string;
  protocol_version: string;
  host_name: string;
  vendor: string;
  firmware: number;
  max_channels: number;
}

export interface Exchange {
  transport: 'tcp' | 'udp';
  port: number;
  outcome: Outcome;
  answered: boolean;
  /** From sending the opening message (TCP: once connected) to the answer, ms. */
  rtt_ms: number | null;
  /** TCP: how long the connection took to open, ms. */
  connect_ms?: number;
  /** Datagrams sent (UDP retransmits like a client); 1 for TCP. */
  attempts: number;
  /** What went wrong, in the system's words. */
  error?: string;
  reply?: PptpReply | L2tpReply | IkeReply;
  /** IPsec: whether the NAT detection hashes show a NAT on the router's side
   * of the path (between it and the server: double NAT, carrier NAT) or on the server's. */
  nat?: { router_side: boolean; server_side: boolean };
}

/** What the current settings do to the inside host's traffic of a protocol to this server. */
export interface HostVerdict {
  /** null: cannot be told (the host's address of that family or MAC is unknown). */
  passes: boolean | null;
  /** protocol_off, family_blocked, host_not_listed, host_listed, all_hosts, control_off, host_unknown */
  code: string;
  field?: string;
  value?: string;
  message: string;
}

export interface Conclusion {
  /** works, router_blocks, server_silent, both_fail, server_answers, cannot_tell */
  code: string;
  message: string;
}

export interface ProtocolProbe {
  answered: boolean;
  exchanges: Exchange[];
  /** IPsec: the server answers IKE on UDP 4500, the way NAT-T works. */
  nat_t?: boolean;
  verdict?: HostVerdict;
  conclusion: Conclusion;
}

/** The inside host as the router knows it. */
export interface InsideHost {
  given: string;
  ipv4: string[];
  ipv6: string[];
  macs: string[];
}

export interface ProbeReport {
  /** As given: an address or a host name. */
  server: string;
  /** The address probed, and every address the name resolved to. */
  address: string;
  addresses: string[];
  family: 'ipv4' | 'ipv6';
  timeout_ms: number;
  /** Every probed protocol answered. */
  answered: boolean;
  protocols: Partial<Record<ProtocolName, ProtocolProbe>>;
  host?: InsideHost;
  warnings: Diagnostic[];
}

const NAME: Record<ProtocolName, string> = { pptp: 'PPTP', l2tp: 'L2TP', ipsec: 'IPsec' };

/** The two answers side by side: is it the router or the server? */
export function conclude(protocol: ProtocolName, answered: boolean, verdict: HostVerdict | undefined, host: string | undefined): Conclusion {
  const p = NAME[protocol];

  if (!verdict || host === undefined) {
    return answered
      ? { code: 'server_answers', message: `The server answers ${p}. If a client still fails, look at its settings (or ask about it with --host).` }
      : { code: 'server_silent', message: `The server does not answer ${p}, not even to this router: the problem lies beyond this router (server down, wrong address, or blocked on the way).` };
  }
  if (verdict.passes === null) {
    return { code: 'cannot_tell', message: `${answered ? `The server answers ${p}` : `The server does not answer ${p}`}; whether this router lets ${host} through cannot be told: ${verdict.message}` };
  }
  if (answered && verdict.passes) return { code: 'works', message: `The server answers ${p} and this router lets ${host} through: look at the VPN client on ${host} (its settings, its credentials).` };
  if (answered) return { code: 'router_blocks', message: `The server answers ${p}, but this router's settings block ${host}: ${verdict.message}` };
  if (verdict.passes) return { code: 'server_silent', message: `This router lets ${host} through, but the server does not answer ${p}, not even to the router: the problem lies beyond this router.` };

  return { code: 'both_fail', message: `The server does not answer ${p}, and this router's settings block ${host} too: ${verdict.message}` };
}
