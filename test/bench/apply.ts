// Benchmark 1, run inside a network namespace holding a genuine fw4 ruleset:
// the daemon's path (Daemon.apply in a warm process: plan + ONE nft
// transaction, no `nft -c`, the helper state known since start) against the
// floor, a bare `nft -f` of the same ruleset text; each round toggles L2TP
// so every apply really changes the kernel. Prints one JSON line of raw
// samples (ms).
//
//   node apply.mjs CONFDIR STATEDIR ROUNDS

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Daemon } from '../../firmware/daemon/daemon.ts';
import { pptpHelperState } from '../../firmware/engine/helper.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { time } from './stats.ts';

const [confdir, statedir, rounds] = process.argv.slice(2) as [string, string, string];
const platform = nodePlatform([]);
const paths = { confdir, statedir };
// The daemon without ubus (no socket there) and without its log lines.
const daemonPath = new Daemon({ ...platform, out: () => undefined, err: () => undefined }, { paths, socket: join(statedir, 'no-ubus.sock') });
const config = (l2tp: boolean) => `config globals 'globals'\n\toption enabled '1'\n\nconfig protocol 'pptp'\n\toption enabled '1'\n\nconfig protocol 'l2tp'\n\toption enabled '${l2tp ? 1 : 0}'\n\nconfig protocol 'ipsec'\n\toption enabled '1'\n`;
const daemon: number[] = [];
const floor: number[] = [];
const floorFile = join(statedir, 'floor.nft');

for (let i = -2; i < Number(rounds); i++) {
  writeFileSync(join(confdir, 'vpn-passthrough'), config(i % 2 === 0));
  let ruleset = '';
  const a = await time(async () => {
    const r = await daemonPath.apply('bench');

    if (!r.ok || !r.ruleset) throw new Error(`apply failed: ${JSON.stringify(r.diagnostics)}`);
    ruleset = r.ruleset;
  });

  writeFileSync(floorFile, ruleset);
  const f = await time(async () => {
    const r = await platform.run(['nft', '-f', floorFile]);

    if (r.status !== 0) throw new Error(r.stderr);
  });

  // The first rounds warm up the process and the kernel.
  if (i >= 0) {
    daemon.push(a);
    floor.push(f);
  }
}

// What apply() spends finding the PPTP helper on each call (a kernel with it
// built in has no /sys/module entry, so it spawns modprobe and an nft -c probe).
const helper: number[] = [];

for (let i = 0; i < 10; i++) helper.push(await time(() => pptpHelperState(platform)));

console.log(JSON.stringify({ daemon, floor, helper }));
