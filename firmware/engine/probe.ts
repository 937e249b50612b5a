// `probe`: asks a VPN server, from the router itself, the way a client
// would (exchange.ts), and with an inside host named, puts next to it what
// the current settings and sessions mean for that host (core/probe/verdict.ts).
// Only sockets of its own: nothing in our table or the configuration changes.

import type { Diagnostic } from '../core/diag.ts';
import type { HelperState, ProtocolName, SessionsReport } from '../core/model.ts';
import type { ProbeRequest } from '../core/probe/args.ts';
import { identify, parseArp, parseIpNeigh } from '../core/probe/neighbours.ts';
import { conclude, type Exchange, type HostVerdict, type InsideHost, type ProbeReport, type ProtocolProbe } from '../core/probe/report.ts';
import { hostVerdicts } from '../core/probe/verdict.ts';
import { plan as makePlan } from '../core/plan.ts';
import { TABLE } from '../core/render.ts';
import { normalizeAddress } from '../core/sessions/scope.ts';
import { parseEspSenders } from '../core/sessions/warnings.ts';
import { parseIPv4 } from '../core/net/addr.ts';
import { errorCode, errorMessage, type Platform } from '../platform/platform.ts';
import { probeIpsec, probeL2tp, probePptp } from './exchange.ts';
import { readText } from './files.ts';
import { PPTP_MODULE } from './helper.ts';
import { loadInputs, type NetifdDump, type Paths } from './inputs.ts';
import { readCounters } from './nft.ts';
import { insidePrefixes, sessions } from './sessions.ts';
import { recorded } from './state.ts';

/** The server's name does not resolve. */
export class ServerNotFound extends Error {}

const RUNNERS: Record<ProtocolName, (platform: Platform, address: string, timeoutMs: number) => Promise<Exchange[]>> = {
  pptp: async (platform, address, timeoutMs) => [await probePptp(platform, address, timeoutMs)],
  l2tp: async (platform, address, timeoutMs) => [await probeL2tp(platform, address, timeoutMs)],
  ipsec: probeIpsec,
};

async function resolve(platform: Platform, request: ProbeRequest): Promise<string[]> {
  if (request.address) return [request.address];
  try {
    const found = (await platform.lookup(request.server)).map(normalizeAddress);

    if (found.length > 0) return found;
  } catch (e) {
    throw new ServerNotFound(`${request.server}: the name does not resolve (${errorCode(e) ?? errorMessage(e)})`);
  }
  throw new ServerNotFound(`${request.server}: the name has no addresses`);
}

/** The host as the router's neighbour tables know it. */
async function insideHost(platform: Platform, given: string): Promise<InsideHost> {
  const arp = (await readText(platform, '/proc/net/arp').catch(() => null)) ?? '';
  const v6 = await platform.run(['ip', '-6', 'neigh', 'show']).catch(() => null);

  return identify(given, [...parseArp(arp), ...(v6?.status === 0 ? parseIpNeigh(v6.stdout) : [])]);
}

/** The settings, the kernel and the sessions, as far as they concern one host. */
async function verdicts(platform: Platform, paths: Paths, address: string, given: string, protocols: ProtocolName[], options: ProbeOptions) {
  const { netifd } = options;
  const loaded = await loadInputs(platform, paths, netifd);
  const helper: HelperState = (await platform.exists(PPTP_MODULE)) ? 'loaded' : ((await recorded(platform, paths))?.helper ?? 'unknown');
  const espSet = await platform.run(['nft', 'list', 'set', 'inet', TABLE, 'esp_senders']).catch(() => null);
  const report = await (options.sessions ? options.sessions() : sessions(platform, paths, netifd ? { netifd } : {})).catch(() => null);
  const host = await insideHost(platform, given);

  const out = hostVerdicts(protocols, {
    config: loaded.config,
    plan: makePlan(loaded.config, loaded.devices, helper).plan,
    helper,
    applied: (await readCounters(platform)) !== null,
    server: address,
    host,
    sessions: report?.sessions ?? [],
    espSenders: espSet?.status === 0 ? parseEspSenders(espSet.stdout) : [],
    inside: await insidePrefixes(platform, loaded.devices.inside),
  });

  return { ...out, host, diagnostics: loaded.diagnostics };
}

export interface ProbeOptions {
  netifd?: NetifdDump;
  /** The sessions report (the daemon's, read once per poll interval); else read here. */
  sessions?: () => Promise<SessionsReport>;
}

export async function probe(platform: Platform, paths: Paths, request: ProbeRequest, options: ProbeOptions = {}): Promise<ProbeReport> {
  const addresses = await resolve(platform, request);
  const address = addresses[0]!;
  const results = await Promise.all(request.protocols.map((p) => RUNNERS[p](platform, address, request.timeoutMs)));
  const judged = request.host === undefined ? null : await verdicts(platform, paths, address, request.host, request.protocols, options);
  const warnings: Diagnostic[] = judged ? [...judged.diagnostics.filter((d) => d.severity === 'error'), ...judged.warnings] : [];
  const protocols: Partial<Record<ProtocolName, ProtocolProbe>> = {};

  request.protocols.forEach((name, i) => {
    const exchanges = results[i]!;
    const answered = exchanges.some((x) => x.answered);
    const verdict: HostVerdict | undefined = judged?.verdicts[name];

    protocols[name] = {
      answered,
      exchanges,
      ...(name === 'ipsec' ? { nat_t: exchanges.some((x) => x.port === 4500 && x.answered) } : {}),
      ...(verdict ? { verdict } : {}),
      conclusion: conclude(name, answered, verdict, judged?.host.given),
    };
  });

  return {
    server: request.server,
    address,
    addresses,
    family: parseIPv4(address) ? 'ipv4' : 'ipv6',
    timeout_ms: request.timeoutMs,
    answered: request.protocols.every((p) => protocols[p]!.answered),
    protocols,
    ...(judged ? { host: judged.host } : {}),
    warnings,
  };
}
