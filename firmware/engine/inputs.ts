// What an apply reads: our UCI file (validated), firewall4's zones and the
// devices behind them (netifd over ubus, and /etc/config/network).

import { PACKAGE, readConfig, type Config } from '../core/config.ts';
import { error, hasErrors, warning, type Diagnostic } from '../core/diag.ts';
import { parseUci, UciSyntaxError, type UciPackage } from '../core/uci/parse.ts';
import { firewallZones, flowOffloading, mergeInterfaces, networkDevices, resolveZones, ubusDevices, type Devices } from '../core/zones.ts';
import { errorMessage, type Platform } from '../platform/platform.ts';
import { readText } from './files.ts';

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
  /** What the servers' checks read too (engine/servers.ts). */
  firewall?: UciPackage | null;
  network?: UciPackage | null;
  netifdDump?: unknown;
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

  const netifdDump = netifd ? await netifd().catch(() => null) : null;
  const live = netifdDump ? ubusDevices(netifdDump) : new Map<string, string[]>();
  const interfaces = mergeInterfaces(network ? networkDevices(network) : new Map(), live);
  const zones = resolveZones(config, firewallZones(firewall ?? { sections: [] }), interfaces);

  return { config, devices: zones.devices, flowOffload: flowOffloading(firewall ?? { sections: [] }), diagnostics: [...diagnostics, ...zones.diagnostics], firewall, network, netifdDump };
}

