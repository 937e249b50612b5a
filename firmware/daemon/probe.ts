// The `probe` ubus method: `vpn-passthrough probe` over the bus. A bad
// argument is INVALID_ARGUMENT with {error} naming it, a name that does not
// resolve NOT_FOUND; otherwise the report the command prints with --json.

import { ProbeArgumentError, parseProbeArgs } from '../core/probe/args.ts';
import type { SessionsReport } from '../core/model.ts';
import type { NetifdDump, Paths } from '../engine/engine.ts';
import { probe, ServerNotFound } from '../engine/probe.ts';
import type { Platform } from '../platform/platform.ts';
import { UbusError } from '../ubus/errors.ts';
import type { Request } from '../ubus/objects.ts';
import type { Table } from '../ubus/value.ts';

/** sessions: the daemon's report, read once per poll interval for every caller. */
export function probeMethod(platform: Platform, paths: Paths, netifd: NetifdDump, sessions: () => Promise<SessionsReport>) {
  return {
    args: { server: 'string', protocol: 'string', host: 'string', timeout: 'int32' } as const,
    async handler(req: Request): Promise<Table> {
      let request;

      try {
        request = parseProbeArgs(req.args as Record<string, unknown>);
      } catch (e) {
        if (!(e instanceof ProbeArgumentError)) throw e;
        platform.err(`vpn-passthrough: ubus probe refused: ${e.message}`);
        throw new UbusError('INVALID_ARGUMENT', e.message, { data: { error: e.message } });
      }

      try {
        return (await probe(platform, paths, request, { netifd, sessions })) as unknown as Table;
      } catch (e) {
        if (!(e instanceof ServerNotFound)) throw e;
        throw new UbusError('NOT_FOUND', e.message, { data: { error: e.message } });
      }
    },
  };
}
