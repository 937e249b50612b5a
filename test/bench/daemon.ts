// Benchmark 4's daemon figures: `vpn-passthrough daemon` started in a
// network namespace (so its rules never reach this machine's firewall),
// against ubusd's part played by test/lib/ubusd-broker.ts. Start-to-ready is
// from spawning it to its object being published and its first apply
// announced; idle RSS is read two seconds later. Prints one JSON line.
//
//   node daemon.mjs NETNS CONFDIR STATEDIR SOCKET -- COMMAND...

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { Broker } from '../lib/ubusd-broker.ts';

const [netns, confdir, statedir, socket, , ...command] = process.argv.slice(2) as string[];
const broker = new Broker(socket!);

await broker.start();

const started = performance.now();
const child = spawn('ip', ['netns', 'exec', netns!, ...command, 'daemon', '--socket', socket!, '--confdir', confdir!, '--statedir', statedir!], { stdio: 'ignore' });

try {
  await broker.until(() => broker.object('vpn-passthrough') && broker.events.some((e) => e.name === 'vpn-passthrough.applied'), 15_000, 'the daemon to be ready');
  const ready = performance.now() - started;

  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;

  console.log(JSON.stringify({ ready, rss }));
} finally {
  child.kill('SIGTERM');
  await broker.stop();
}
