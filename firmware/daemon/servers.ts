// The ubus methods for VPN servers behind the router:
//   set_server {name, enabled?, protocol?, host?, host6?, allow?}: creates or
//     changes the `config server` section, checked first exactly as apply
//     checks it; writes through rpcd's uci object (set + commit), applies,
//     returns the status. A bad value is INVALID_ARGUMENT naming the field.
//   delete_server {name}: removes the section, applies, returns the status.
//   check_server {same as set_server}: the diagnostics the change would
//     give, written nowhere ({ok, diagnostics}); what the LuCI page shows in
//     its dialog before saving (rpc.js drops the data of an error reply).

import { PACKAGE } from '../core/config.ts';
import { error, formatDiagnostic, hasErrors, type Diagnostic } from '../core/diag.ts';
import type { ServerProtocol } from '../core/servers/sets.ts';
import type { ApplyResult, NetifdDump, Paths } from '../engine/engine.ts';
import { changeValues, proposeServer, writeConfig, type ServerChange } from '../engine/server-edit.ts';
import type { Platform } from '../platform/platform.ts';
import type { UbusClient } from '../ubus/client.ts';
import { UbusError } from '../ubus/errors.ts';
import type { Table } from '../ubus/value.ts';
import { InvalidArgument } from './args.ts';
import { RPCD_CONFDIR } from './uci.ts';

const show = (v: unknown) => JSON.stringify(v) ?? String(v);
const ARGS = ['name', 'enabled', 'protocol', 'host', 'host6', 'allow'];

/** The arguments' types; their values are checked with the file's own
 * rules (core/servers/config.ts), so ubus, uci and LuCI get the same words. */
export function parseServerArgs(args: Record<string, unknown>, only: readonly string[] = ARGS): ServerChange {
  for (const key of Object.keys(args)) {
    if (!only.includes(key) && key !== 'ubus_rpc_session') throw new InvalidArgument(`${key}: unknown argument (${only.join(', ')})`);
  }
  const { name, enabled, protocol, host, host6, allow } = args;

  if (typeof name !== 'string' || !/^[A-Za-z0-9_]+$/.test(name)) throw new InvalidArgument(`name: ${show(name)} is not a section name (letters, digits, _)`);
  // ubus sends booleans as int8; `ubus call` from a shell may send 0/1.
  if (enabled !== undefined && typeof enabled !== 'boolean' && enabled !== 0 && enabled !== 1) throw new InvalidArgument(`enabled: ${show(enabled)} is not a boolean`);
  for (const [key, value] of [['protocol', protocol], ['host', host], ['host6', host6]] as const) {
    if (value !== undefined && typeof value !== 'string') throw new InvalidArgument(`${key}: ${show(value)} is not a string`);
  }
  if (allow !== undefined && !(Array.isArray(allow) && allow.every((a) => typeof a === 'string'))) throw new InvalidArgument(`allow: ${show(allow)} is not an array of addresses`);

  return { name, ...(enabled === undefined ? {} : { enabled: Boolean(enabled) }), ...(protocol === undefined ? {} : { protocol: protocol as ServerProtocol }), ...(host === undefined ? {} : { host: host as string }), ...(host6 === undefined ? {} : { host6: host6 as string }), ...(allow === undefined ? {} : { allow: allow as string[] }) };
}

/** What the daemon lends these methods. */
export interface ServerMethodsContext {
  platform: Platform;
  paths: Paths;
  ubus(): UbusClient | null;
  netifd: NetifdDump;
  apply(reason: string): Promise<ApplyResult>;
  status(): Promise<Table>;
}

async function viaRpcd(ubus: UbusClient, change: ServerChange | { name: string; remove: true }): Promise<void> {
  const section = { config: PACKAGE, section: change.name };

  if ('remove' in change) {
    await ubus.call('uci', 'delete', section);
  } else {
    const values = Object.fromEntries(Object.entries(changeValues(change)).filter(([, v]) => v !== null)) as Table;
    const removed = Object.entries(changeValues(change)).filter(([, v]) => v === null).map(([k]) => k);

    try {
      await ubus.call('uci', 'set', { ...section, values });
    } catch (e) {
      // No such section yet: add it, named, as `uci set pkg.name=server` would.
      if (!(e instanceof UbusError) || e.code !== 'NOT_FOUND') throw e;
      await ubus.call('uci', 'add', { config: PACKAGE, type: 'server', name: change.name, values });
    }
    for (const option of removed) {
      await ubus.call('uci', 'delete', { ...section, option }).catch((e: unknown) => {
        if (!(e instanceof UbusError) || e.code !== 'NOT_FOUND') throw e;
      });
    }
  }
  await ubus.call('uci', 'commit', { config: PACKAGE });
}

function refuse(ctx: ServerMethodsContext, method: string, diagnostics: Diagnostic[]): never {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const message = errors.map(formatDiagnostic).join('; ');

  ctx.platform.err(`vpn-passthrough: ubus ${method} refused: ${message}`);
  throw new UbusError(errors.some((d) => d.code === 'server_not_found') ? 'NOT_FOUND' : 'INVALID_ARGUMENT', message, { data: { error: message, diagnostics } as unknown as Table });
}

function parse(ctx: ServerMethodsContext, method: string, args: Table, only?: readonly string[]): ServerChange {
  try {
    return parseServerArgs(args as Record<string, unknown>, only);
  } catch (e) {
    if (!(e instanceof InvalidArgument)) throw e;
    ctx.platform.err(`vpn-passthrough: ubus ${method} refused: ${e.message}`);
    throw new UbusError('INVALID_ARGUMENT', e.message, { data: { error: e.message } });
  }
}

async function change(ctx: ServerMethodsContext, method: string, wanted: ServerChange | { name: string; remove: true }): Promise<Table> {
  const { pkg, diagnostics } = await proposeServer(ctx.platform, ctx.paths, ctx.netifd, wanted);

  if (hasErrors(diagnostics)) refuse(ctx, method, diagnostics);
  const ubus = ctx.ubus();
  const rpcd = ubus !== null && ctx.paths.confdir === RPCD_CONFDIR ? await ubus.lookupId('uci').then(() => true, () => false) : false;

  if (rpcd) {
    await viaRpcd(ubus!, wanted).catch((e: unknown) => {
      throw new UbusError('UNKNOWN_ERROR', `rpcd's uci object refused the change: ${(e as Error).message}`);
    });
  } else {
    const written = await writeConfig(ctx.platform, ctx.paths, pkg);

    if (hasErrors(written)) throw new UbusError('UNKNOWN_ERROR', written.map(formatDiagnostic).join('; '));
  }
  await ctx.apply(`ubus ${method} ${wanted.name}`);

  return ctx.status();
}

const SERVER_ARGS = { name: 'string', enabled: 'boolean', protocol: 'string', host: 'string', host6: 'string', allow: 'array' } as const;

export function serverMethods(ctx: ServerMethodsContext) {
  return {
    set_server: {
      args: SERVER_ARGS,
      handler: (req: { args: Table }) => change(ctx, 'set_server', parse(ctx, 'set_server', req.args)),
    },
    delete_server: {
      args: { name: 'string' } as const,
      handler: (req: { args: Table }) => change(ctx, 'delete_server', { name: parse(ctx, 'delete_server', req.args, ['name']).name, remove: true }),
    },
    check_server: {
      args: SERVER_ARGS,
      handler: async (req: { args: Table }) => {
        let wanted: ServerChange;

        try {
          wanted = parseServerArgs(req.args as Record<string, unknown>);
        } catch (e) {
          if (!(e instanceof InvalidArgument)) throw e;
          // An answer, not a failure: the page shows it beside the fields.
          const [, key = '', text = e.message] = /^(\w+): (.*)$/s.exec(e.message) ?? [];
          const name = typeof req.args.name === 'string' && /^[A-Za-z0-9_]+$/.test(req.args.name) ? req.args.name : null;

          return { ok: false, diagnostics: [error('invalid_argument', text, name && key !== 'name' ? `${PACKAGE}.${name}.${key}` : `${PACKAGE}.${key}`)] } as unknown as Table;
        }
        const { diagnostics } = await proposeServer(ctx.platform, ctx.paths, ctx.netifd, wanted);

        return { ok: !hasErrors(diagnostics), diagnostics } as unknown as Table;
      },
    },
  };
}
