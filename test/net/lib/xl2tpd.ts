// Real L2TP peers: xl2tpd as LNS (outside) and LAC (inside), in the
// foreground with private files. The control tunnel (SCCRQ/SCCRP/SCCCN)
// and the call (ICRQ/ICRP/ICCN) work here; pppd then fails for want of
// /dev/ppp, which is expected and after the point.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Daemon } from './proc.ts';
import { ADDR, type Client, type Host, type Topology } from './topology.ts';

let instances = 0;

function start(topo: Topology, host: Host, conf: string): Daemon {
  const dir = join(topo.dir, `xl2tpd-${host}-${instances++}`);

  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'xl2tpd.conf'), conf);
  writeFileSync(join(dir, 'l2tp-secrets'), '');

  return topo.daemon(host, 'xl2tpd', ['xl2tpd', '-D', '-c', join(dir, 'xl2tpd.conf'), '-s', join(dir, 'l2tp-secrets'), '-p', join(dir, 'pid'), '-C', join(dir, 'control')]);
}

export async function l2tpServer(topo: Topology): Promise<Daemon> {
  const d = start(topo, 'server', `[global]
listen-addr = ${ADDR.server[4]}
port = 1701

[lns default]
ip range = 10.98.0.10-10.98.0.20
local ip = 10.98.0.1
require authentication = no
length bit = yes
`);

  if (!(await d.waitFor((l) => /Listening on IP address/.test(l.text), 10_000))) throw new Error(`xl2tpd LNS did not start: ${d.text()}`);

  return d;
}

/** A LAC that dials the server at once, once. */
export function l2tpClient(topo: Topology, client: Client): Daemon {
  return start(topo, client, `[global]
port = 1701

[lac vpn]
lns = ${ADDR.server[4]}
autodial = yes
redial = no
length bit = yes
`);
}

export interface L2tpOutcome {
  tunnel: boolean;
  call: boolean;
  log: string;
}

/** Whether the LAC got its control tunnel and its call within timeoutMs. */
export async function l2tpOutcome(lac: Daemon, timeoutMs: number): Promise<L2tpOutcome> {
  const tunnel = await lac.waitFor((l) => /Connection established to/.test(l.text), timeoutMs);
  const call = tunnel ? await lac.waitFor((l) => /Call established with/.test(l.text), timeoutMs) : undefined;

  return { tunnel: !!tunnel, call: !!call, log: lac.text() };
}
