// The servers' steps that touch the system: the facts their sections are
// checked against (inside networks, firewall4's port forwards, the router's
// own sockets and who holds them), firewall4's hook chain (is it there; our
// transaction replaces its rules), the dynamic include file fw4 reads on
// every start and reload, and cutting the sessions of a server that is gone.

import { PACKAGE, type Config } from '../core/config.ts';
import { warning, type Diagnostic } from '../core/diag.ts';
import type { Counter, ServerStatus } from '../core/model.ts';
import { parseProcNet, type Socket } from '../core/net/sockets.ts';
import { activeServers, checkServers, serverPorts, type ServerFacts } from '../core/servers/check.ts';
import { firewallRedirects, insideNetworks } from '../core/servers/facts.ts';
import type { ServerPlan, ServersPlan } from '../core/servers/plan.ts';
import { FW4_CHAIN, fw4File, fw4Rules, fw4Transaction } from '../core/servers/render.ts';
import { describeMembers, memberParts, SERVER_MEMBERS } from '../core/servers/sets.ts';
import { firewallZones } from '../core/zones.ts';
import type { Plan } from '../core/plan.ts';
import { errorCode, type Platform } from '../platform/platform.ts';
import { readText, writeFileAtomic } from './files.ts';
import type { Loaded, Paths } from './inputs.ts';

/** fw4's include (table-post/30-vpn-passthrough.nft) reads `<statedir>/fw4/*.nft`. */
export const fw4Dir = (paths: Paths) => `${paths.statedir}/fw4`;
const fw4FilePath = (paths: Paths) => `${fw4Dir(paths)}/servers.nft`;
/** The servers of the last load, to know whose sessions to cut. */
const recordPath = (paths: Paths) => `${paths.statedir}/servers.json`;

async function readSockets(platform: Platform, wanted: { proto: 'tcp' | 'udp'; port: number }[]): Promise<Socket[]> {
  if (wanted.length === 0) return [];
  const files = [['tcp', '/proc/net/tcp'], ['tcp', '/proc/net/tcp6'], ['udp', '/proc/net/udp'], ['udp', '/proc/net/udp6']] as const;
  const all = await Promise.all(files.map(async ([proto, path]) => parseProcNet((await readText(platform, path).catch(() => null)) ?? '', proto)));

  return all.flat().filter((s) => wanted.some((w) => w.proto === s.proto && w.port === s.port));
}

/** "charon (pid 812)" for each socket inode, by reading /proc/PID/fd links:
 * only done for the few sockets that are in the way. */
async function socketOwners(platform: Platform, inodes: number[]): Promise<Map<number, string>> {
  const owners = new Map<number, string>();

  if (inodes.length === 0) return owners;
  const pids = (await platform.readDir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));

  for (const pid of pids) {
    const fds = await platform.readDir(`/proc/${pid}/fd`).catch(() => [] as string[]);

    for (const fd of fds) {
      const m = /^socket:\[(\d+)\]$/.exec(await platform.readLink(`/proc/${pid}/fd/${fd}`).catch(() => ''));

      if (!m || !inodes.includes(Number(m[1])) || owners.has(Number(m[1]))) continue;
      const comm = ((await readText(platform, `/proc/${pid}/comm`).catch(() => null)) ?? '?').trim();

      owners.set(Number(m[1]), `'${comm}' (pid ${pid})`);
    }
    if (owners.size === inodes.length) break;
  }

  return owners;
}

export async function serverFacts(platform: Platform, loaded: Loaded): Promise<ServerFacts> {
  const { config } = loaded;
  const inside = insideNetworks(config.lanZones, firewallZones(loaded.firewall ?? { sections: [] }), loaded.network ?? null, loaded.netifdDump ?? null);
  const sockets = await readSockets(platform, serverPorts(config.servers));
  const facts: ServerFacts = { inside, redirects: firewallRedirects(loaded.firewall ?? null, config.wanZones), sockets, owners: new Map() };
  // Only the sockets that will be reported get their owner looked up.
  const reported = checkServers(config.servers, facts).filter((d) => d.code === 'server_port_in_use');

  if (reported.length > 0) facts.owners = await socketOwners(platform, sockets.map((s) => s.inode));

  return facts;
}

/** The servers' checks, for apply and status (nothing to do without servers). */
export async function checkServerInputs(platform: Platform, loaded: Loaded): Promise<Diagnostic[]> {
  if (!loaded.config.enabled || activeServers(loaded.config.servers).length === 0) return [];

  return checkServers(loaded.config.servers, await serverFacts(platform, loaded));
}

export type Fw4Hook = 'present' | 'missing' | 'no-firewall';

/** Whether firewall4's table has our chain (it does once fw4 has been
 * (re)started with our include files installed). */
export async function fw4Hook(platform: Platform): Promise<Fw4Hook> {
  const nft = (args: string[]) => platform.run(['nft', ...args]).then((r) => r.status === 0, () => false);

  if (await nft(['-t', 'list', 'chain', 'inet', 'fw4', FW4_CHAIN])) return 'present';

  return (await nft(['-t', 'list', 'chain', 'inet', 'fw4', 'forward'])) ? 'missing' : 'no-firewall';
}

function hookDiagnostics(hook: Fw4Hook, config: Config, loaded: Loaded): Diagnostic[] {
  if (hook !== 'missing') return [];
  const defaults = loaded.firewall?.sections.find((s) => s.type === 'defaults');
  const autoIncludes = defaults?.options.get('auto_includes');
  const first = activeServers(config.servers)[0];
  const at = first ? `${PACKAGE}.${first.name}` : PACKAGE;

  if (typeof autoIncludes === 'string' && ['0', 'false', 'no', 'off'].includes(autoIncludes)) {
    return [warning('fw4_auto_includes_off', "firewall4's automatic includes are off (firewall.@defaults[0].auto_includes='0'), so it never loads vpn-passthrough's accept rules: firewall4 rejects the servers' traffic. Set auto_includes to 1 and reload the firewall", at)];
  }

  return [warning('fw4_hook_missing', "firewall4 has not loaded vpn-passthrough's include files yet (it was not reloaded since the package was installed): it rejects the servers' traffic until '/etc/init.d/firewall reload'", at)];
}

export interface Fw4Part {
  /** Statements to append to our script (empty: fw4 is not touched). */
  script: string;
  /** The rules for fw4's chain (what the dynamic file gets). */
  rules: string[];
  diagnostics: Diagnostic[];
}

/** What our transaction does to fw4's chain. The chain is asked for only
 * when there are servers now or were before (the dynamic file exists). */
export async function fw4Part(platform: Platform, paths: Paths, plan: Plan, loaded: Loaded): Promise<Fw4Part> {
  const rules = plan.table ? fw4Rules(plan.servers, plan.devices.outside) : [];

  if (rules.length === 0 && !(await platform.exists(fw4FilePath(paths)))) return { script: '', rules, diagnostics: [] };
  const hook = await fw4Hook(platform);

  return { script: hook === 'present' ? fw4Transaction(rules) : '', rules, diagnostics: rules.length ? hookDiagnostics(hook, loaded.config, loaded) : [] };
}

/** After a successful load: the dynamic file follows (fw4 includes it on
 * every start and reload), and the sessions of servers that changed or went
 * are cut, so nothing of them reaches the inside host any more. */
export async function afterLoad(platform: Platform, paths: Paths, plan: Plan, rules: string[]): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];

  try {
    if (rules.length > 0) {
      await platform.makeDir(fw4Dir(paths), 0o755);
      await writeFileAtomic(platform, fw4FilePath(paths), fw4File(rules));
    } else {
      await platform.remove(fw4FilePath(paths)).catch((e: unknown) => {
        if (errorCode(e) !== 'ENOENT') throw e;
      });
    }
  } catch (e) {
    out.push(warning('fw4_file_unwritable', `cannot write ${fw4FilePath(paths)} (${(e as Error).message}): a firewall reload will not keep the servers' accept rules`));
  }

  const now = plan.table ? plan.servers.list : [];
  const before = JSON.parse((await readText(platform, recordPath(paths)).catch(() => null)) ?? '[]') as ServerPlan[];
  const gone = before.filter((b) => !now.some((n) => JSON.stringify(n) === JSON.stringify(b)));

  out.push(...(await cutSessions(platform, gone)));
  if (gone.length > 0 || now.length !== before.length) await writeFileAtomic(platform, recordPath(paths), JSON.stringify(now) + '\n').catch(() => undefined);

  return out;
}

/** Deletes the conntrack entries of a server's forwarded flows: IPv4 by the
 * host they were DNATed to (the reply's source), IPv6 by destination. */
async function cutSessions(platform: Platform, gone: ServerPlan[]): Promise<Diagnostic[]> {
  const commands: string[][] = [];

  for (const s of gone) {
    for (const m of s.members) {
      const { proto, port } = memberParts(m);
      const p = proto === 'esp' ? '50' : proto;

      if (s.host) commands.push(['-p', p, '-r', s.host, ...(port ? ['--reply-port-src', String(port)] : [])]);
      if (s.host6) commands.push(['-f', 'ipv6', '-p', p, '-d', s.host6, ...(port ? ['--orig-port-dst', String(port)] : [])]);
    }
  }
  for (const args of commands) {
    try {
      // Exit status 1 means "nothing to delete", which is fine.
      await platform.run(['conntrack', '-D', ...args]);
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') throw e;

      return [warning('server_sessions_kept', `sessions already forwarded to ${gone.map((s) => `'${s.name}'`).join(', ')} continue until they go idle: install the 'conntrack' package so vpn-passthrough can cut them at once`)];
    }
  }

  return [];
}

/** The servers as `status` shows them, with their counters. */
export function serverStatus(config: Config, counters: Map<string, Counter> | null): ServerStatus[] {
  const zero = { packets: 0, bytes: 0 };

  return config.servers.map((s) => ({
    name: s.name,
    enabled: s.enabled,
    protocol: s.protocol,
    host: s.host,
    host6: s.host6,
    allow: s.allow.map((h) => h.text),
    forwards: s.protocol ? describeMembers(SERVER_MEMBERS[s.protocol]) : '',
    active: config.enabled && s.enabled && counters?.has(s.id) === true,
    connections: counters?.get(s.id) ?? zero,
    refused: counters?.get(`${s.id}_refused`) ?? zero,
  }));
}

/** What `status` adds about the servers: the checks, and fw4's hook. */
export async function serverStatusDiagnostics(platform: Platform, loaded: Loaded): Promise<Diagnostic[]> {
  if (!loaded.config.enabled || activeServers(loaded.config.servers).length === 0) return [];

  return [...(await checkServerInputs(platform, loaded)), ...hookDiagnostics(await fw4Hook(platform), loaded.config, loaded)];
}

export type { ServersPlan };
