// Benchmark 4's daemon figures: `vpn-passthrough daemon` started in a
// network namespace (so its rules never reach this machine's firewall),
// against ubusd's part played by test/lib/ubusd-broker.ts. Start-to-ready is
// from spawning it to its object being published and its first apply
// announced; then, idle for IDLE seconds: its RSS and the CPU time it used,
// and the same for its watchdog's `nft monitor` child (also the memory only
// it holds: RSS counts the shared libraries too); then while fw4's
// ruleset is loaded RELOADS times (what the watchdog reads but ignores: not
// our table), the CPU both used. CPU time is the sum of every thread's
// /proc/PID/task/TID/schedstat (nanoseconds on the CPU). Prints one JSON line.
//
//   node daemon.mjs NETNS CONFDIR STATEDIR SOCKET FW4-RULESET IDLE RELOADS -- COMMAND... [daemon flags]

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

import { Broker } from '../lib/ubusd-broker.ts';

const [netns, confdir, statedir, socket, fw4, idleS, reloads, , ...rest] = process.argv.slice(2) as string[];
const flags = rest.filter((a) => a.startsWith('--'));
const command = rest.filter((a) => !a.startsWith('--'));
const broker = new Broker(socket!);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nanoseconds on the CPU, all threads of a process. */
function cpuNs(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]), 0);
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** Memory only this process holds (its private pages; RSS also counts shared libraries). */
function privateMiB(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);

  return (kib('Private_Clean') + kib('Private_Dirty')) / 1024;
}

/** The daemon's `nft monitor` child, if it has one. */
function monitorPid(pid: number): number | null {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const file = `/proc/${pid}/task/${tid}/children`;

    for (const child of existsSync(file) ? readFileSync(file, 'utf8').split(' ').filter(Boolean).map(Number) : []) {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').slice(0, 2).join(' ').endsWith('nft monitor')) return child;
    }
  }

  return null;
}

await broker.start();

const started = performance.now();
const child = spawn('ip', ['netns', 'exec', netns!, ...command, 'daemon', '--socket', socket!, '--confdir', confdir!, '--statedir', statedir!, ...flags], { stdio: 'ignore' });

try {
  await broker.until(() => broker.object('vpn-passthrough') && broker.events.some((e) => e.name === 'vpn-passthrough.applied'), 15_000, 'the daemon to be ready');
  const ready = performance.now() - started;
  const pid = child.pid!;

  await sleep(2000);
  const monitor = monitorPid(pid);
  const before = [cpuNs(pid), monitor ? cpuNs(monitor) : 0];

  await sleep(Number(idleS) * 1000);
  const idle = [cpuNs(pid) - before[0]!, monitor ? cpuNs(monitor) - before[1]! : 0];
  const rss = rssMiB(pid);
  const monitorRss = monitor ? rssMiB(monitor) : 0;
  const monitorPrivate = monitor ? privateMiB(monitor) : 0;
  const mark = [cpuNs(pid), monitor ? cpuNs(monitor) : 0];

  for (let i = 0; i < Number(reloads); i++) spawnSync('ip', ['netns', 'exec', netns!, 'nft', '-f', fw4!]);
  await sleep(500);
  const reload = [cpuNs(pid) - mark[0]!, monitor ? cpuNs(monitor) - mark[1]! : 0];

  console.log(JSON.stringify({ ready, rss, idle: { seconds: Number(idleS), cpu_ms: idle[0]! / 1e6 }, monitor: monitor ? { rss: monitorRss, private: monitorPrivate, idle_cpu_ms: idle[1]! / 1e6, reload_cpu_ms: reload[1]! / 1e6 } : null, reloads: { count: Number(reloads), cpu_ms: reload[0]! / 1e6 } }));
} finally {
  child.kill('SIGTERM');
  await broker.stop();
}
