// The passthrough engine: UCI → validated config → devices → plan → ruleset
// → kernel, and the status report. The steps are the pure core's; this file
// only fetches their inputs through the Platform and records the outcome.

import { PACKAGE, readConfig, type Config } from '../core/config.ts';
import { error, hasErrors, warning, type Diagnostic } from '../core/diag.ts';
import { PROTOCOLS, type HelperState, type LastApply, type Status } from '../core/model.ts';
import { plan as makePlan, type Plan } from '../core/plan.ts';
import { render } from '../core/render.ts';
import { parseUci, UciSyntaxError, type UciPackage } from '../core/uci/parse.ts';
import { firewallZones, flowOffloading, mergeInterfaces, networkDevices, resolveZones, ubusDevices, type Devices } from '../core/zones.ts';
import { errorMessage, type Platform } from '../platform/platform.ts';
import { VERSION } from '../version.ts';
import { cutOffloadedFlows } from './conntrack.ts';
import { readText, writeFileAtomic } from './files.ts';
import { PPTP_MODULE, pptpHelperState } from './helper.ts';
import { loadRuleset, readCounters } from './nft.ts';

export interface Paths {
  /** Where the UCI files are (/etc/config). */
  confdir: string;
  /** Where the last apply is recorded (/var/run/vpn-passthrough). */
  statedir: string;
}

/** Asks netifd for its interfaces (`ubus call network.interface dump`), or null. */
export type NetifdDump = () => Promise<unknown>;

export interface Loaded {
  config: Config;
  devices: Devices;
  /** firewall4 offloads established flows past the forward hook. */
  flowOffload: boolean;
  diagnostics: Diagnostic[];
}

export interface ApplyResult {
  ok: boolean;
  /** The same rules were loaded already; the kernel was left alone. */
  unchanged: boolean;
  diagnostics: Diagnostic[];
  duration_ms: number;
  helper: HelperState;
  plan?: Plan;
  ruleset?: string;
}

/** A UCI file from the config dir: the parsed package, null when absent. */
export async function readPackage(platform: Platform, paths: Paths, name: string, out: Diagnostic[]): Promise<UciPackage | null> {
  const path = `${paths.confdir}/${name}`;
  const text = await readText(platform, path);

  if (text === null) return null;
  try {
    return parseUci(text);
  } catch (e) {
    const line = e instanceof UciSyntaxError ? String(e.line) : undefined;

    out.push(error('uci_syntax', `${path}: ${errorMessage(e)}`, name, line));

    return null;
  }
}

export async function loadConfig(platform: Platform, paths: Paths): Promise<{ config: Config; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const pkg = await readPackage(platform, paths, PACKAGE, diagnostics);

  if (pkg === null && diagnostics.length === 0) {
    diagnostics.push(warning('config_missing', `${paths.confdir}/${PACKAGE} does not exist: using the defaults (everything passes)`, PACKAGE));
  }

  const { config, diagnostics: more } = readConfig(pkg ?? { sections: [] });

  return { config, diagnostics: [...diagnostics, ...more] };
}

export async function loadInputs(platform: Platform, paths: Paths, netifd?: NetifdDump): Promise<Loaded> {
  const { config, diagnostics } = await loadConfig(platform, paths);

  // Master switch off: our table goes, whatever the zones say.
  if (!config.enabled) return { config, devices: { inside: [], outside: [] }, flowOffload: false, diagnostics };

  const firewall = await readPackage(platform, paths, 'firewall', diagnostics);
  const network = await readPackage(platform, paths, 'network', diagnostics);

  if (firewall === null && !hasErrors(diagnostics)) {
    diagnostics.push(error('firewall_config_missing', `${paths.confdir}/firewall does not exist: the lan and wan zones cannot be found`, 'firewall'));
  }

  const live = netifd ? ubusDevices(await netifd().catch(() => null)) : new Map<string, string[]>();
  const interfaces = mergeInterfaces(network ? networkDevices(network) : new Map(), live);
  const zones = resolveZones(config, firewallZones(firewall ?? { sections: [] }), interfaces);

  return { config, devices: zones.devices, flowOffload: flowOffloading(firewall ?? { sections: [] }), diagnostics: [...diagnostics, ...zones.diagnostics] };
}

const STATE = 'state.json';

/** The ruleset goes to nft as a file in the state dir (nft -f FILE):
 * `ruleset.next.nft` while it is tried, `ruleset.nft` once loaded, which
 * also tells the next apply whether anything changed. */
const RULESET = 'ruleset.nft';
const NEXT = 'ruleset.next.nft';

async function writeRuleset(platform: Platform, paths: Paths, ruleset: string, out: Diagnostic[]): Promise<string | null> {
  const path = `${paths.statedir}/${NEXT}`;

  try {
    await platform.makeDir(paths.statedir, 0o755);
    await writeFileAtomic(platform, path, ruleset);

    return path;
  } catch (e) {
    out.push(error('statedir_unwritable', `cannot write ${path}: ${errorMessage(e)}`));

    return null;
  }
}

/** The same ruleset is loaded already: applying again would only zero the counters. */
async function unchanged(platform: Platform, paths: Paths, plan: Plan, ruleset: string): Promise<boolean> {
  if (!plan.table || (await readText(platform, `${paths.statedir}/${RULESET}`).catch(() => null)) !== ruleset) return false;

  return (await readCounters(platform)) !== null;
}

/** Loads a new ruleset: `nft -c` first when check, then one transaction. */
async function loadKernel(platform: Platform, paths: Paths, plan: Plan, ruleset: string, check: boolean, flowOffload: boolean): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const file = await writeRuleset(platform, paths, ruleset, out);

  if (!file) return out;
  if (check) out.push(...(await loadRuleset(platform, file, true)));
  if (!hasErrors(out)) out.push(...(await loadRuleset(platform, file)));
  if (hasErrors(out)) return out;

  await platform.rename(file, `${paths.statedir}/${RULESET}`);
  if (flowOffload) out.push(...(await cutOffloadedFlows(platform, plan)));

  return out;
}

interface State extends LastApply {
  helper: HelperState;
}

async function record(platform: Platform, paths: Paths, state: State): Promise<void> {
  try {
    await platform.makeDir(paths.statedir, 0o755);
    await writeFileAtomic(platform, `${paths.statedir}/${STATE}`, JSON.stringify(state) + '\n');
  } catch {
    // A read-only or missing state dir must not turn a good apply into a failure.
  }
}

async function recorded(platform: Platform, paths: Paths): Promise<State | null> {
  const text = await readText(platform, `${paths.statedir}/${STATE}`).catch(() => null);

  try {
    return text === null ? null : (JSON.parse(text) as State);
  } catch {
    return null;
  }
}

/** Validates everything, checks the ruleset with `nft -c` (when check), then
 * loads it in one transaction. Any failure leaves the kernel as it was. */
export interface ApplyOptions {
  /** Check with `nft -c` before loading (default true). */
  check?: boolean;
  netifd?: NetifdDump;
  /** The helper state a long-running caller already knows; probed when
   * absent, 'missing' or 'unknown' (a module can be installed meanwhile). */
  helper?: HelperState;
}

export async function apply(platform: Platform, paths: Paths, options: ApplyOptions = {}): Promise<ApplyResult> {
  const started = performance.now();
  const loaded = await loadInputs(platform, paths, options.netifd);
  const diagnostics = [...loaded.diagnostics];
  const pptp = loaded.config.protocols.pptp;
  const last = await recorded(platform, paths);
  // A helper built into the kernel stays there: trust what was found before
  // (a loaded module is checked again, it can be unloaded).
  const known = options.helper === 'loaded' || options.helper === 'builtin' ? options.helper : last?.helper === 'builtin' ? 'builtin' : undefined;
  // Probe (and load) the helper only when PPTP needs it; otherwise keep what was last known.
  const helper: HelperState = loaded.config.enabled && pptp.enabled && pptp.family !== 'ipv6' ? (known ?? (await pptpHelperState(platform))) : (last?.helper ?? options.helper ?? 'unknown');
  const result: ApplyResult = { ok: false, unchanged: false, diagnostics, duration_ms: 0, helper };

  if (!hasErrors(diagnostics)) {
    const planned = makePlan(loaded.config, loaded.devices, helper);

    diagnostics.push(...planned.diagnostics);
    if (!hasErrors(diagnostics)) {
      result.plan = planned.plan;
      result.ruleset = render(planned.plan);
      result.unchanged = await unchanged(platform, paths, planned.plan, result.ruleset);
      if (!result.unchanged) diagnostics.push(...(await loadKernel(platform, paths, planned.plan, result.ruleset, options.check !== false, loaded.flowOffload)));
    }
  }

  result.ok = !hasErrors(diagnostics);
  result.duration_ms = Math.round((performance.now() - started) * 10) / 10;
  await record(platform, paths, { time: Math.floor(Date.now() / 1000), ok: result.ok, duration_ms: result.duration_ms, diagnostics, helper });

  return result;
}

/** The ruleset the current configuration gives, without touching the kernel. */
export async function renderRuleset(platform: Platform, paths: Paths, netifd?: NetifdDump): Promise<{ ruleset?: string; diagnostics: Diagnostic[] }> {
  const loaded = await loadInputs(platform, paths, netifd);

  if (hasErrors(loaded.diagnostics)) return { diagnostics: loaded.diagnostics };

  // Rendering must not load modules: the last apply's helper state, or assume present.
  const helper = (await platform.exists(PPTP_MODULE)) ? 'loaded' : ((await recorded(platform, paths))?.helper ?? 'unknown');
  const planned = makePlan(loaded.config, loaded.devices, helper);
  const diagnostics = [...loaded.diagnostics, ...planned.diagnostics];

  return hasErrors(diagnostics) ? { diagnostics } : { ruleset: render(planned.plan), diagnostics };
}

export async function status(platform: Platform, paths: Paths, netifd?: NetifdDump): Promise<Status> {
  const loaded = await loadInputs(platform, paths, netifd);
  const counters = await readCounters(platform);
  const last = await recorded(platform, paths);
  const zero = { packets: 0, bytes: 0 };
  const { config } = loaded;
  const helper: HelperState = (await platform.exists(PPTP_MODULE)) ? 'loaded' : (last?.helper ?? 'unknown');

  return {
    version: VERSION,
    enabled: config.enabled,
    applied: counters !== null,
    log: config.log,
    inside: { zones: config.lanZones, devices: loaded.devices.inside },
    outside: { zones: config.wanZones, devices: loaded.devices.outside },
    helper: { pptp: helper },
    protocols: Object.fromEntries(
      PROTOCOLS.map((name) => {
        const p = config.protocols[name];

        return [name, {
          enabled: config.enabled && p.enabled,
          family: p.family,
          hosts: p.hosts.map((h) => h.text),
          passed: counters?.get(`${name}_pass`) ?? zero,
          dropped: counters?.get(`${name}_drop`) ?? zero,
        }];
      }),
    ) as Status['protocols'],
    last_apply: last ? { time: last.time, ok: last.ok, duration_ms: last.duration_ms, diagnostics: last.diagnostics } : null,
    diagnostics: loaded.diagnostics,
  };
}
