// `vpn-passthrough enable|disable` without the daemon: edit
// /etc/config/vpn-passthrough as `uci set …; uci commit` would (libuci's
// format, atomic replace), after validating the result.

import { PACKAGE, readConfig } from '../core/config.ts';
import { error, hasErrors, type Diagnostic } from '../core/diag.ts';
import type { Family, ProtocolName } from '../core/model.ts';
import { ensureSection, setOption } from '../core/uci/edit.ts';
import { formatUci } from '../core/uci/format.ts';
import type { Platform } from '../platform/platform.ts';
import { readPackage, type Paths } from './inputs.ts';
import { writeFileAtomic } from './files.ts';

export interface ProtocolChange {
  enabled?: boolean;
  family?: Family;
  hosts?: string[];
}

/** Writes the change when the resulting configuration is valid; returns its diagnostics. */
export async function changeProtocol(platform: Platform, paths: Paths, protocol: ProtocolName, change: ProtocolChange): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const pkg = (await readPackage(platform, paths, PACKAGE, diagnostics)) ?? { sections: [] };

  if (hasErrors(diagnostics)) return diagnostics;

  const section = ensureSection(pkg, 'protocol', protocol);

  if (change.enabled !== undefined) setOption(section, 'enabled', change.enabled ? '1' : '0');
  if (change.family !== undefined) setOption(section, 'family', change.family);
  if (change.hosts !== undefined) setOption(section, 'host', change.hosts);

  const checked = readConfig(pkg).diagnostics;

  if (hasErrors(checked)) return checked;

  try {
    await writeFileAtomic(platform, `${paths.confdir}/${PACKAGE}`, formatUci(pkg), 0o600);
  } catch (e) {
    return [...checked, error('config_write_failed', `cannot write ${paths.confdir}/${PACKAGE}: ${(e as Error).message}`, `${PACKAGE}.${protocol}`)];
  }

  return checked;
}
