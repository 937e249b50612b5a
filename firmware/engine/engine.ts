// The passthrough engine: UCI → validated config → devices → plan → ruleset
// → kernel, and the status report. The steps are the pure core's; this file
// only runs them in order on inputs.ts's inputs and records the outcome in
// the state directory (state.ts).

import { hasErrors, type Diagnostic } from '../core/diag.ts';
import { describeDrift, TABLE_GONE } from '../core/drift.ts';
import { PROTOCOLS, type HelperState, type Restore, type Status } from '../core/model.ts';
import { plan as makePlan, type Plan } from '../core/plan.ts';
import { render, TABLE } from '../core/render.ts';
import { withoutFw4Transaction } from '../core/servers/render.ts';
import type { Platform } from '../platform/platform.ts';
import { VERSION } from '../version.ts';
import { cutOffloadedFlows } from './conntrack.ts';
import { PPTP_MODULE, pptpHelperState } from './helper.ts';
import { loadInputs, type NetifdDump, type Paths } from './inputs.ts';
import { listTable, loadRuleset, readCounters } from './nft.ts';
import { recordRestore, restores } from './restores.ts';
import { afterLoad, checkServerInputs, fw4Hook, fw4Part, serverStatus, serverStatusDiagnostics } from './servers.ts';
import { accepted, commitRuleset, lastRuleset, recorded, record, stageRuleset, type Accepted } from './state.ts';

export type { NetifdDump, Paths } from './inputs.ts';

export interface ApplyResult {
  ok: boolean;
  /** The kernel has these rules already, as loaded; it was left alone. */
  unchanged: boolean;
  /** The same rules were loaded before but the kernel had lost this of them:
   * they were put back (and the restore recorded). */
  restored?: string;
  diagnostics: Diagnostic[];
  duration_ms: number;
  helper: HelperState;
  plan?: Plan;
  ruleset?: string;
}

/** What the kernel has lost of `ruleset` since it was loaded: null when it
 * holds it exactly as listed then; undefined when that listing was never
 * recorded (the kernel cannot be compared: load to be sure). */
async function lostOf(platform: Platform, known: Accepted, ruleset: string): Promise<string | null | undefined> {
  const expected = await known.listing(ruleset);

  return expected === null ? undefined : describeDrift(expected, await listTable(platform));
}

/** Loads a new ruleset in one transaction. A ruleset the kernel has not
 * accepted before (since boot) is first checked with `nft -c`, so a refusal
 * is reported before anything is touched; one it has accepted is loaded
 * straight away (a toggle back and forth costs one nft run). How the kernel
 * then lists our table is recorded once per ruleset (again with relist):
 * later checks compare the kernel with it. */
async function loadKernel(platform: Platform, paths: Paths, known: Accepted, ruleset: string, options: { check: boolean; relist: boolean }): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const file = await stageRuleset(platform, paths, ruleset, out);

  if (!file) return out;
  if (options.check || !known.has(ruleset)) out.push(...(await loadRuleset(platform, file, true)));
  if (!hasErrors(out)) out.push(...(await loadRuleset(platform, file)));
  if (hasErrors(out)) return out;

  await commitRuleset(platform, paths);
  if (options.relist || (await known.listing(ruleset)) === null) await known.remember(ruleset, (await listTable(platform)) ?? '');

  return out;
}

export interface ApplyOptions {
  /** Run `nft -c` before loading even a ruleset the kernel accepted before. */
  check?: boolean;
  netifd?: NetifdDump;
  /** The helper state a long-running caller already knows; probed when
   * absent, 'missing' or 'unknown' (a module can be installed meanwhile). */
  helper?: HelperState;
  /** Who asked, for the record of restores ('apply' by default). */
  trigger?: string;
  /** What the caller found the kernel had lost (the daemon's watchdog): a
   * load that follows counts as a restore even if the rules changed too. */
  lost?: string;
  event?: string;
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

  if (!hasErrors(diagnostics)) diagnostics.push(...(await checkServerInputs(platform, loaded)));
  if (!hasErrors(diagnostics)) {
    const planned = makePlan(loaded.config, loaded.devices, helper);

    diagnostics.push(...planned.diagnostics);
    if (!hasErrors(diagnostics)) {
      // fw4's hook chain changes in the same transaction as our table.
      const fw4 = await fw4Part(platform, paths, planned.plan, loaded);

      diagnostics.push(...fw4.diagnostics);
      const ruleset = render(planned.plan) + fw4.script;
      const rulesets = await accepted(platform, paths);
      // The same rules as last time: unchanged only if the kernel still
      // holds them exactly as it listed them after loading them.
      const lost = (await lastRuleset(platform, paths)) === ruleset ? await lostOf(platform, rulesets, ruleset) : undefined;

      result.plan = planned.plan;
      result.ruleset = ruleset;
      result.unchanged = lost === null;
      if (!result.unchanged) {
        diagnostics.push(...(await loadKernel(platform, paths, rulesets, ruleset, { check: options.check === true, relist: typeof lost === 'string' })));
        if (!hasErrors(diagnostics)) {
          if (loaded.flowOffload) diagnostics.push(...(await cutOffloadedFlows(platform, planned.plan)));
          diagnostics.push(...(await afterLoad(platform, paths, planned.plan, fw4.rules)));
          const what = lost ?? options.lost;

          if (what) {
            result.restored = what;
            await recordRestore(platform, paths, { time: Math.floor(Date.now() / 1000), trigger: options.trigger ?? 'apply', lost: what, ...(options.event ? { event: options.event } : {}) });
          }
        }
      }
    }
  }

  result.ok = !hasErrors(diagnostics);
  result.duration_ms = Math.round((performance.now() - started) * 10) / 10;
  await record(platform, paths, { time: Math.floor(Date.now() / 1000), ok: result.ok, duration_ms: result.duration_ms, diagnostics, helper });

  return result;
}

/** What the kernel has lost of the rules last loaded (null: nothing, or
 * nothing loaded yet). Reads no configuration: one `nft list`, for the
 * daemon's watchdog and firewall4's include. */
export async function checkKernel(platform: Platform, paths: Paths): Promise<string | null> {
  const last = await lastRuleset(platform, paths);

  if (last === null) return null;
  const lost = await lostOf(platform, await accepted(platform, paths), last);

  if (lost !== undefined) return lost;
  // No listing recorded (a state dir from before): at least the table must be there.
  return last.includes(`table inet ${TABLE} {`) && (await listTable(platform)) === null ? TABLE_GONE : null;
}

/** Loads the rules last loaded again, as they were: when the kernel lost
 * them and the configuration no longer gives a ruleset (it was broken after
 * the last apply), the rules the owner last had are still better than none. */
export async function reloadLast(platform: Platform, paths: Paths, restore: Omit<Restore, 'time'>): Promise<Diagnostic[]> {
  const loaded = await lastRuleset(platform, paths);

  if (loaded === null) return [];
  // The servers' accepts go into fw4's chain, which a firewall stop took
  // away with our table: then our table alone (fw4's start brings them
  // back from the file the last apply wrote).
  const own = withoutFw4Transaction(loaded);
  const last = own === loaded || (await fw4Hook(platform)) === 'present' ? loaded : own;
  const rulesets = await accepted(platform, paths);
  const out = await loadKernel(platform, paths, rulesets, last, { check: false, relist: true });

  if (!hasErrors(out)) await recordRestore(platform, paths, { time: Math.floor(Date.now() / 1000), ...restore });

  return out;
}

/** The ruleset the current configuration gives, without touching the kernel. */
export async function renderRuleset(platform: Platform, paths: Paths, netifd?: NetifdDump): Promise<{ ruleset?: string; diagnostics: Diagnostic[] }> {
  const loaded = await loadInputs(platform, paths, netifd);

  const checked = [...loaded.diagnostics, ...(hasErrors(loaded.diagnostics) ? [] : await checkServerInputs(platform, loaded))];

  if (hasErrors(checked)) return { diagnostics: checked };

  // Rendering must not load modules: the last apply's helper state, or assume present.
  const helper = (await platform.exists(PPTP_MODULE)) ? 'loaded' : ((await recorded(platform, paths))?.helper ?? 'unknown');
  const planned = makePlan(loaded.config, loaded.devices, helper);
  const diagnostics = [...checked, ...planned.diagnostics];

  if (hasErrors(diagnostics)) return { diagnostics };
  const fw4 = await fw4Part(platform, paths, planned.plan, loaded);

  return { ruleset: render(planned.plan) + fw4.script, diagnostics: [...diagnostics, ...fw4.diagnostics] };
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
          enabled: p.enabled,
          family: p.family,
          hosts: p.hosts.map((h) => h.text),
          passed: counters?.get(`${name}_pass`) ?? zero,
          dropped: counters?.get(`${name}_drop`) ?? zero,
        }];
      }),
    ) as Status['protocols'],
    servers: serverStatus(config, counters),
    last_apply: last ? { time: last.time, ok: last.ok, duration_ms: last.duration_ms, diagnostics: last.diagnostics } : null,
    restores: await restores(platform, paths),
    diagnostics: [...loaded.diagnostics, ...(hasErrors(loaded.diagnostics) ? [] : await serverStatusDiagnostics(platform, loaded))],
  };
}
