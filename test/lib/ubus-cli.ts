// What the real `ubus` CLI (openwrt/ubus cli.c) would print for list, call,
// listen and subscribe, computed from our client's decoded results, so a
// replay can compare them with the recorded *.stdout files.

import type { Field } from '../../firmware/ubus/blobmsg.ts';
import type { UbusClient } from '../../firmware/ubus/client.ts';
import { statusText, UbusError } from '../../firmware/ubus/errors.ts';
import { formatField, formatList } from '../../firmware/ubus/json.ts';
import type { Table } from '../../firmware/ubus/value.ts';

export interface CliOutput {
  stdout: string;
  stderr: string;
  rc: number;
}

/** cli.c format_type(): signature entries by blobmsg type code. */
function typeName(f: Field): string | undefined {
  if (f.type !== 'int32') return undefined;
  const names: Record<number, string> = { 7: '"Boolean"', 5: '"Integer"', 3: '"String"', 1: '"Array"', 2: '"Table"' };

  return names[f.value] ?? '"(unknown)"';
}

/** `ubus [-v] list [path]` */
export async function cliList(client: UbusClient, path: string | undefined, verbose: boolean): Promise<CliOutput> {
  try {
    const objects = await client.list(path);
    const lines = objects.flatMap((o) =>
      verbose ? [`'${o.path}' @${o.id.toString(16).padStart(8, '0')}`, ...o.signature.map((m) => '\t' + formatField(m, { custom: typeName }))] : [o.path],
    );

    return { stdout: lines.map((l) => l + '\n').join(''), stderr: '', rc: 0 };
  } catch (e) {
    return failed(e);
  }
}

/** main(): a positive status is printed as "Command failed: <text>". */
function failed(e: unknown): CliOutput {
  if (!(e instanceof UbusError)) throw e;

  return { stdout: '', stderr: `Command failed: ${statusText(e.status)}\n`, rc: e.status };
}

/** `ubus call path method [json]`: ubus_lookup_id, then ubus_invoke. */
export async function cliCall(client: UbusClient, argv: [string, string, string?]): Promise<CliOutput> {
  const [path, method, json] = argv;
  const args = json === undefined ? {} : (JSON.parse(json) as Table);
  let id: number;

  try {
    id = await client.lookupId(path);
  } catch (e) {
    return failed(e);
  }
  try {
    const data = await client.invoke(id, method, args);

    return { stdout: data ? formatList(data, { indent: 0 }) + '\n' : '', stderr: '', rc: 0 };
  } catch (e) {
    if (!(e instanceof UbusError)) throw e;
    // ubus_cli_error(): the command line, the error text, and -err as exit code.
    const line = `Command failed: ubus call ${argv.filter((a) => a !== undefined).join(' ')} (${statusText(e.status)})\n`;

    return { stdout: '', stderr: line, rc: (256 - e.status) & 0xff };
  }
}

/** print_event(): how `ubus listen` and `ubus subscribe` print what arrives. */
export function cliEvent(name: string, fields: Field[]): string {
  return `{ "${name}": ${formatList(fields)} }\n`;
}
