// The sessions report: gathers what the pure classifier needs through the
// Platform — the conntrack table (streamed), the inside prefixes, our
// esp_senders set and drop counters — and hands it over.
//
// The table: /proc/net/nf_conntrack, else `conntrack -L -o extended` (routers
// without conntrack procfs; it also prints helper=), or a saved FILE.

import { warning, type Diagnostic } from '../core/diag.ts';
import { PROTOCOLS, type SessionsReport } from '../core/model.ts';
import type { CollectOptions } from '../core/sessions/classify.ts';
import { ipv4Routes, ipv6Routes, type Prefix } from '../core/sessions/scope.ts';
import { collectSessions, type TableSessions } from '../core/sessions/table.ts';
import { parseEspSenders, sessionWarnings, type Drop, type EspSender } from '../core/sessions/warnings.ts';
import { TABLE } from '../core/render.ts';
import { errorCode, errorMessage, type Platform } from '../platform/platform.ts';
import { conntrackKeeps } from './accounting.ts';
import { loadInputs, type NetifdDump, type Paths } from './inputs.ts';
import { readText } from './files.ts';
import { readCounters } from './nft.ts';

export const PROC_CONNTRACK = '/proc/net/nf_conntrack';

export interface SessionsOptions {
  /** A saved table (`cat /proc/net/nf_conntrack` or `conntrack -L` output). */
  conntrack?: string;
  netifd?: NetifdDump;
  /** How long a PPTP control connection may go without GRE (default 5 s). */
  graceSeconds?: number;
}

/** The prefixes routed to the inside devices; null when none are found. */
export async function insidePrefixes(platform: Platform, devices: string[]): Promise<Prefix[] | null> {
  if (devices.length === 0) return null;
  const v4 = (await readText(platform, '/proc/net/route').catch(() => null)) ?? '';
  const v6 = (await readText(platform, '/proc/net/ipv6_route').catch(() => null)) ?? '';
  const prefixes = [...ipv4Routes(v4, devices), ...ipv6Routes(v6, devices)];

  return prefixes.length > 0 ? prefixes : null;
}

async function espSenders(platform: Platform): Promise<EspSender[]> {
  const r = await platform.run(['nft', 'list', 'set', 'inet', TABLE, 'esp_senders']).catch(() => null);

  return r && r.status === 0 ? parseEspSenders(r.stdout) : [];
}

/** Reads the table from the first source that exists. */
async function readTable(platform: Platform, options: SessionsOptions, scope: Prefix[] | null, out: Diagnostic[]): Promise<TableSessions & { source: string }> {
  const collect = (chunks: AsyncIterable<Uint8Array>, helperShown?: boolean) => collectSessions(chunks, { inside: scope, ...(helperShown === undefined ? {} : { helperShown }) } satisfies CollectOptions);

  // A saved table: whether it came from netlink shows in its helper= fields.
  if (options.conntrack !== undefined) return { ...(await collect(platform.readChunks(options.conntrack))), source: options.conntrack };

  try {
    return { ...(await collect(platform.readChunks(PROC_CONNTRACK), false)), source: PROC_CONNTRACK };
  } catch (e) {
    if (errorCode(e) !== 'ENOENT') throw e;
  }

  try {
    return { ...(await collect(platform.runChunks(['conntrack', '-L', '-o', 'extended']), true)), source: 'conntrack -L' };
  } catch (e) {
    const missing = errorCode(e) === 'ENOENT';

    out.push(warning('conntrack_unavailable', missing
      ? `${PROC_CONNTRACK} does not exist and the conntrack tool is not installed: sessions cannot be listed (install the 'conntrack' package)`
      : `conntrack -L failed: ${errorMessage(e)}`));

    return { sessions: [], entries: 0, skipped: 0, source: 'none' };
  }
}

export async function sessions(platform: Platform, paths: Paths, options: SessionsOptions = {}): Promise<SessionsReport> {
  const loaded = await loadInputs(platform, paths, options.netifd);
  const { config } = loaded;
  const warnings: Diagnostic[] = [];
  // A table saved elsewhere does not belong to this router's routes.
  const scope = options.conntrack === undefined ? await insidePrefixes(platform, loaded.devices.inside) : null;
  const table = await readTable(platform, options, scope, warnings);
  const counters = await readCounters(platform);
  const drops: Drop[] = PROTOCOLS.flatMap((protocol) => {
    const c = counters?.get(`${protocol}_drop`);

    return c ? [{ protocol, ...c, reason: config.enabled && config.protocols[protocol].enabled ? 'restricted' : 'disabled' } satisfies Drop] : [];
  });

  warnings.push(...sessionWarnings({
    sessions: table.sessions,
    espSenders: await espSenders(platform),
    drops,
    ...(options.graceSeconds === undefined ? {} : { graceSeconds: options.graceSeconds }),
  }));

  // A saved table is not this router's: what its conntrack keeps says nothing about it.
  const conntrack = options.conntrack === undefined ? await conntrackKeeps(platform) : { accounting: null, timestamps: null };

  return { sessions: table.sessions, warnings, skipped: table.skipped, entries: table.entries, source: table.source, conntrack };
}
