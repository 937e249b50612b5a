// The passthrough engine: UCI → validated config → devices → plan → ruleset
// → kernel, and the status report. The steps are the pure core's; this file
// only runs them in order on inputs.ts's inputs and records the outcome in
// the state directory (state.ts).

import { hasErrors, type Diagnostic } from '../core/diag.ts';
import { PROTOCOLS, type HelperState, type Status } from '../core/model.ts';
import { plan as makePlan, type Plan } from '../core/plan.ts';
import { render } from '../core/render.ts';
import type { Platform } from '../platform/platform.ts';
import { VERSION } from '../version.ts';
import { cutOffloadedFlows } from './conntrack.ts';
import { PPTP_MODULE, pptpHelperState } from './helper.ts';
import { loadInputs, type NetifdDump, type Paths } from './inputs.ts';
import { loadRuleset, readCounters } from './nft.ts';
import { afterLoad, checkServerInputs, fw4Part, serverStatus, serverStatusDiagnostics } from './servers.ts';
import { accepted, commitRuleset, lastRuleset, recorded, record, stageRuleset } from './state.ts';

export type { NetifdDump, Paths } from './inputs.ts';

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

/** The same ruleset is loaded already: applying again would only zero the counters. */
async function unchanged(platform: Platform, paths: Paths, plan: Plan, ruleset: string): Promise<boolean> {
  if (!plan.table || (await lastRuleset(platform, paths)) !== ruleset) return false;

  return (await readCounters(platform)) !== null;
}

/** Loads a new ruleset in one transaction. A ruleset the kernel has not
 * accepted before (since boot) is first checked with `nft -c`, so a refusal
 * is reported before anything is touched; one it has accepted is loaded
 * straight away (a toggle back and forth costs one nft run). */
async function loadKernel(platform: Platform, paths: Paths, plan: Plan, ruleset: string, check: boolean, flowOffload: boolean): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const file = await stageRuleset(platform, paths, ruleset, out);

  if (!file) return out;
  const known = await accepted(platform, paths);

  if (check || !known.has(ruleset)) out.push(...(await loadRuleset(platform, file, true)));
  if (!hasErrors(out)) out.push(...(await loadRuleset(platform, file)));
  if (hasErrors(out)) return out;

  await commitRuleset(platform, paths);
  await known.remember(ruleset);
  if (flowOffload) out.push(...(await cutOffloadedFlows(platform, plan)));

  return out;
}

export interface ApplyOptions {
  /** Run `nft -c` before loading even a ruleset the kernel accepted before. */
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

  if (!hasErrors(diagnostics)) diagnostics.push(...(await checkServerInputs(platform, loaded)));
  if (!hasErrors(diagnostics)) {
    const planned = makePlan(loaded.config, loaded.devices, helper);

    diagnostics.push(...planned.diagnostics);
    if (!hasErrors(diagnostics)) {
      // fw4's hook chain changes in the same transaction as our table.
      const fw4 = await fw4Part(platform, paths, planned.plan, loaded);

      diagnostics.push(...fw4.diagnostics);
      result.plan = planned.plan;
      result.ruleset = render(planned.plan) + fw4.script;
      result.unchanged = await unchanged(platform, paths, planned.plan, result.ruleset);
      if (!result.unchanged) diagnostics.push(...(await loadKernel(platform, paths, planned.plan, result.ruleset, options.check === true, loaded.flowOffload)));
      if (!result.unchanged && !hasErrors(diagnostics)) diagnostics.push(...(await afterLoad(platform, paths, planned.plan, fw4.rules)));
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
    diagnostics: [...loaded.diagnostics, ...(hasErrors(loaded.diagnostics) ? [] : await serverStatusDiagnostics(platform, loaded))],
  };
}
