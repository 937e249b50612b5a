// Debian's pptpd as a real PPTP server: in the foreground, with private
// files, listening on the server's IPv4 address. Its control connection
// (Start-Control-Connection) works here; a call would need pppd and
// /dev/ppp, which this kernel lacks, so calls are the packet-level peer's
// (pptp.py). pptpd logs only to syslog: it is ready once 1723 listens.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { sleep, type Daemon } from './proc.ts';
import { ADDR, type Topology } from './topology.ts';

export const PPTPD = '/usr/sbin/pptpd';

export async function pptpdServer(topo: Topology): Promise<Daemon> {
  const dir = join(topo.dir, 'pptpd');

  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pptpd.conf'), '# no IP ranges: the probe never gets as far as a call\n');
  writeFileSync(join(dir, 'options'), '');
  const d = topo.daemon('server', 'pptpd', [PPTPD, '--fg', '-c', join(dir, 'pptpd.conf'), '-o', join(dir, 'options'), '-p', join(dir, 'pid'), '-l', ADDR.server[4]]);

  for (let i = 0; !/:1723\b/.test(topo.exec('server', ['ss', '-ltnH']).stdout); i++) {
    if (i > 200 || !d.running) throw new Error(`pptpd did not start listening: ${d.text()}`);
    await sleep(10);
  }

  return d;
}
