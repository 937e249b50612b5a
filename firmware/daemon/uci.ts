// Writing a protocol's settings the way LuCI does: through rpcd's `uci`
// object (set, then commit). The commit is what makes procd's config
// triggers fire and keeps rpcd's view and locks right. Without rpcd (or
// with a --confdir that is not rpcd's /etc/config) the file is edited
// directly, as `vpn-passthrough enable` does.

import { PACKAGE } from '../core/config.ts';
import { error, type Diagnostic } from '../core/diag.ts';
import { changeProtocol } from '../engine/edit.ts';
import type { Paths } from '../engine/engine.ts';
import type { Platform } from '../platform/platform.ts';
import type { UbusClient } from '../ubus/client.ts';
import { UbusError } from '../ubus/errors.ts';
import type { Table } from '../ubus/value.ts';
import type { SetArgs } from './args.ts';

export const RPCD_CONFDIR = '/etc/config';

function values(args: SetArgs): Table {
  const v: Table = {};

  if (args.enabled !== undefined) v.enabled = args.enabled ? '1' : '0';
  if (args.family !== undefined) v.family = args.family;
  if (args.hosts !== undefined && args.hosts.length > 0) v.host = args.hosts;

  return v;
}

async function viaRpcd(ubus: UbusClient, args: SetArgs): Promise<void> {
  const section = { config: PACKAGE, section: args.protocol };

  try {
    await ubus.call('uci', 'set', { ...section, values: values(args) });
  } catch (e) {
    // No such section yet: add it, named, as `uci set pkg.name=protocol` would.
    if (!(e instanceof UbusError) || e.code !== 'NOT_FOUND') throw e;
    await ubus.call('uci', 'add', { config: PACKAGE, type: 'protocol', name: args.protocol, values: values(args) });
  }
  if (args.hosts !== undefined && args.hosts.length === 0) {
    await ubus.call('uci', 'delete', { ...section, option: 'host' }).catch((e: unknown) => {
      if (!(e instanceof UbusError) || e.code !== 'NOT_FOUND') throw e;
    });
  }
  await ubus.call('uci', 'commit', { config: PACKAGE });
}

export async function writeProtocol(platform: Platform, paths: Paths, ubus: UbusClient | null, args: SetArgs): Promise<Diagnostic[]> {
  const rpcd = ubus !== null && paths.confdir === RPCD_CONFDIR ? await ubus.lookupId('uci').then(() => true, () => false) : false;

  if (!rpcd) return changeProtocol(platform, paths, args.protocol, args);

  try {
    await viaRpcd(ubus!, args);

    return [];
  } catch (e) {
    return [error('uci_write_failed', `rpcd's uci object refused the change: ${(e as Error).message}`, `${PACKAGE}.${args.protocol}`)];
  }
}
