// Changing a `config server` section (ubus set_server / delete_server /
// check_server): the change is made on a copy of the parsed file and the
// whole result is checked the way apply checks it (the section's values,
// then the router: inside subnets, other servers, fw4's port forwards, the
// router's own sockets) before anything is written.

import { PACKAGE, readConfig } from '../core/config.ts';
import { error, hasErrors, type Diagnostic } from '../core/diag.ts';
import { ensureSection, findSection, setOption } from '../core/uci/edit.ts';
import { formatUci } from '../core/uci/format.ts';
import type { UciPackage } from '../core/uci/parse.ts';
import type { ServerProtocol } from '../core/servers/sets.ts';
import type { Platform } from '../platform/platform.ts';
import { writeFileAtomic } from './files.ts';
import { loadInputs, readPackage, type NetifdDump, type Paths } from './inputs.ts';
import { checkServerInputs } from './servers.ts';

export interface ServerChange {
  name: string;
  enabled?: boolean;
  /** As given: checked with the file's rules. */
  protocol?: ServerProtocol;
  /** '' removes the option. */
  host?: string;
  host6?: string;
  /** [] removes the list. */
  allow?: string[];
}

/** UCI values of a change: what `uci set` would get; null = delete the option. */
export function changeValues(change: ServerChange): Record<string, string | string[] | null> {
  const v: Record<string, string | string[] | null> = {};

  if (change.enabled !== undefined) v.enabled = change.enabled ? '1' : '0';
  if (change.protocol !== undefined) v.protocol = change.protocol;
  for (const option of ['host', 'host6'] as const) if (change[option] !== undefined) v[option] = change[option] || null;
  if (change.allow !== undefined) v.allow = change.allow.length ? change.allow : null;

  return v;
}

/** The diagnostics that concern one server: its own fields, and conflicts naming it. */
function about(name: string, diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.field?.startsWith(`${PACKAGE}.${name}.`) || d.field === `${PACKAGE}.${name}` || d.message.includes(`'${name}'`));
}

/** The package with the change made, and what the result would say about that server. */
export async function proposeServer(platform: Platform, paths: Paths, netifd: NetifdDump | undefined, change: ServerChange | { name: string; remove: true }): Promise<{ pkg: UciPackage; diagnostics: Diagnostic[] }> {
  const out: Diagnostic[] = [];
  const pkg = (await readPackage(platform, paths, PACKAGE, out)) ?? { sections: [] };

  if (hasErrors(out)) return { pkg, diagnostics: out };
  const taken = pkg.sections.find((s) => s.name === change.name && s.type !== 'server');

  if (taken) return { pkg, diagnostics: [error('server_name_taken', `is the name of the '${taken.type}' section: name the server something else`, `${PACKAGE}.${change.name}`, change.name)] };
  if ('remove' in change) {
    if (!findSection(pkg, 'server', change.name)) return { pkg, diagnostics: [error('server_not_found', 'is not a server section', `${PACKAGE}.${change.name}`, change.name)] };
    pkg.sections = pkg.sections.filter((s) => !(s.type === 'server' && s.name === change.name));

    return { pkg, diagnostics: [] };
  }

  const section = ensureSection(pkg, 'server', change.name);

  for (const [option, value] of Object.entries(changeValues(change))) setOption(section, option, value);

  const { config, diagnostics } = readConfig(pkg);
  const loaded = await loadInputs(platform, paths, netifd);

  loaded.config = config;
  diagnostics.push(...(await checkServerInputs(platform, loaded)));

  return { pkg, diagnostics: about(change.name, diagnostics) };
}

/** Writes the package as `uci commit` would (without rpcd). */
export async function writeConfig(platform: Platform, paths: Paths, pkg: UciPackage): Promise<Diagnostic[]> {
  try {
    await writeFileAtomic(platform, `${paths.confdir}/${PACKAGE}`, formatUci(pkg), 0o600);

    return [];
  } catch (e) {
    return [error('config_write_failed', `cannot write ${paths.confdir}/${PACKAGE}: ${(e as Error).message}`, PACKAGE)];
  }
}
