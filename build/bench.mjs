// `make bench`: the four figures of issue 6, each measured side by side in
// one run and printed with its raw medians (nothing is asserted):
//   1. apply latency: the daemon's path and the one-shot command against a
//      bare `nft -f` of the same ruleset, beside a genuine fw4 ruleset; and
//      loading fw4's full ruleset, for scale
//   2. forwarding: iperf3 TCP through the namespace router, with / without our package (our table, and our hook in fw4's forward chain)
//   3. sessions: classifying a conntrack table vs just reading it, on tjs and
//      Node, 65,536 and 262,144 entries, 1 VPN flow in 1,000 and 1 in 10;
//      time and peak memory
//   4. footprint: bundle, packages, the daemon (and its watchdog's idle cost)
// Needs root (network namespaces) and what build/test-tools.sh installs.
// TJS=/path/to/tjs adds txiki.js figures (the router's runtime).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as esbuild from 'esbuild';

import { apkName } from './apk.mjs';
import { DIST, ROOT, VERSION } from './common.mjs';
import { ipkName } from './ipk.mjs';
import { PACKAGES } from './packages.mjs';

const OUT = join(DIST, 'bench');
/** The recorded fixtures: $VPNPT_SHARED_FIXTURES, else shared/fixtures beside the checkout. */
const SHARED = process.env.VPNPT_SHARED_FIXTURES || join(ROOT, '..', 'shared', 'fixtures');
const TJS = process.env.TJS;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
// BENCH_ONLY=sessions (or apply, forwarding, footprint; comma-separated) runs just those.
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const want = (figure) => ONLY.length === 0 || ONLY.includes(figure);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;

  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => `${x.toFixed(2)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const sh = (argv, input) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
const json = (argv) => JSON.parse(sh(argv).trim().split('\n').at(-1));

function timed(argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });

  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}${r.stdout}`);

  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function build() {
  rmSync(OUT, { recursive: true, force: true });
  const common = { bundle: true, format: 'esm', target: 'es2023', logLevel: 'warning', define: { __VERSION__: JSON.stringify(VERSION) } };

  await esbuild.build({ ...common, platform: 'node', entryPoints: ['apply', 'sessions', 'iperf', 'generate', 'daemon'].map((n) => join(ROOT, 'test/bench', `${n}.ts`)), outdir: OUT, outExtension: { '.js': '.mjs' } });
  await esbuild.build({ ...common, platform: 'node', entryPoints: [join(ROOT, 'firmware/main.node.ts')], outfile: join(OUT, 'vpn-passthrough.mjs') });
  await esbuild.build({ ...common, platform: 'neutral', entryPoints: [join(ROOT, 'test/bench/sessions.tjs.ts')], outfile: join(OUT, 'sessions.tjs.mjs') });
}

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? '?';

  console.log(`machine: ${cpu}, ${cores} CPUs, kernel ${sh(['uname', '-r']).trim()}, Node ${process.version}, ${sh(['nft', '--version']).trim()}${TJS ? `, tjs ${sh([TJS, '--version']).trim()}` : ''}`);
}

/** fw4's ruleset as it prints it, replacing any fw4 table; its router-side include left out. */
const fw4Script = (name) => `table inet fw4\ndelete table inet fw4\n${readFileSync(join(SHARED, 'fw4', `${name}.fw4-print.nft`), 'utf8').replace(/^\s*include "\/etc\/nftables\.d\/\*\.nft"$/m, '')}`;

async function applyLatency(dir) {
  console.log('\n1. apply latency (toggle -> new rules in the kernel), beside fw4 upstream-default');
  const ns = `vpt-bench-${process.pid}`;
  const confdir = join(dir, 'config');
  const statedir = join(dir, 'state');
  const inNs = (argv) => ['ip', 'netns', 'exec', ns, ...argv];

  mkdirSync(statedir);
  spawnSync('ip', ['netns', 'del', ns]);
  sh(['ip', 'netns', 'add', ns]);
  try {
    sh(['ip', '-n', ns, '-batch', '-'], 'link set lo up\nlink add br-lan type bridge\nlink add eth1 type veth peer name eth1-peer\n');
    sh(inNs(['nft', '-f', join(dir, 'fw4.nft')]));

    // (a) the daemon's path, in one warm process.
    const a = json(inNs([process.execPath, join(OUT, 'apply.mjs'), confdir, statedir, String(ROUNDS)]));
    const [da, fa] = [median(a.daemon), median(a.floor)];

    console.log(`   (a) daemon path (Daemon.apply, warm, helper known, one nft transaction): ${ms(da)} vs floor nft -f ${ms(fa)} = ${ratio(da, fa)}  [target <= 1.5x]`);
    console.log(`       (a one-shot apply also probes the PPTP helper: ${ms(median(a.helper))} here, where it is built into the kernel and has no /sys/module entry)`);

    // (b) the one-shot command, a new process per toggle; the floor spawned the same way.
    const oneShot = (argv, label) => {
      const cmd = [];
      const floor = [];

      for (let i = -1; i < Math.min(ROUNDS, 15); i++) {
        writeFileSync(join(confdir, 'vpn-passthrough'), `config protocol 'l2tp'\n\toption enabled '${i % 2 === 0 ? 1 : 0}'\n`);
        const c = timed(inNs([...argv, 'apply', '--confdir', confdir, '--statedir', statedir]));
        const f = timed(inNs(['nft', '-f', join(statedir, 'ruleset.nft')]));

        if (i >= 0) cmd.push(c), floor.push(f);
      }
      const [m, f] = [median(cmd), median(floor)];

      console.log(`   (b) one-shot \`vpn-passthrough apply\` on ${label}: ${ms(m)} vs floor ${ms(f)} = ${ratio(m, f)}  (information: the tjs target is measured on the router)`);

      return f;
    };

    const floorB = oneShot([process.execPath, join(OUT, 'vpn-passthrough.mjs')], 'Node');

    if (TJS) oneShot([TJS, 'run', join(DIST, 'vpn-passthrough.js')], `tjs (${TJS})`);
    else console.log('       tjs: not measured here (set TJS=/path/to/tjs)');

    // For scale: loading fw4's whole ruleset, what a design through `fw4 reload` pays (plus fw4's own rendering).
    const fw4 = [];
    const ours = [];

    for (let i = 0; i < 15; i++) {
      fw4.push(timed(inNs(['nft', '-f', join(dir, 'fw4.nft')])));
      ours.push(timed(inNs(['nft', '-f', join(statedir, 'ruleset.nft')])));
    }
    console.log(`   scale: loading fw4's full ruleset: ${ms(median(fw4))} vs our floor ${ms(median(ours))} = ${ratio(median(fw4), median(ours))} (fw4 reload also renders it first, in ucode: not measured here)`);
    void floorB;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function forwarding() {
  console.log('\n2. forwarding: iperf3 TCP c1 -> server through the namespace router (fw4 upstream-default, masquerade)');
  const r = json([process.execPath, join(OUT, 'iperf.mjs'), String(process.env.BENCH_IPERF_ROUNDS ?? 8), String(process.env.BENCH_IPERF_SECONDS ?? 2)]);
  const [w, wo, off] = [median(r.with), median(r.without), median(r.oneOff)];
  const gbit = (x) => `${(x / 1e9).toFixed(2)} Gbit/s`;

  console.log(`   with our package (default: all pass) ${gbit(w)} vs without ${gbit(wo)} = ${(w / wo).toFixed(3)}  [target >= 0.99]`);
  console.log(`   for information, with L2TP off (every packet classified): ${gbit(off)} = ${(off / wo).toFixed(3)}`);
  console.log(`   samples without: ${r.without.map(gbit).join(', ')}; with: ${r.with.map(gbit).join(', ')}; L2TP off: ${r.oneOff.map(gbit).join(', ')}`);
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Read and classify in short blocks of each, in turn (`pairs`), in
 * `rounds` processes: the machine is shared, and the two blocks of a pair
 * meet the same load, so the ratio is the median of the pairs' ratios. Each
 * process's first `warm` pairs are left out (Node's JIT needs a few, tjs
 * interprets from the first). Peak RSS comes from one process per mode, so
 * each is its own. */
function sideBySide(make, rounds, warm) {
  const read = json(make('read'));
  const last = json(make('classify'));

  return { ...pairsOf(make, 'pairs', rounds, warm), peak: { read: read.peakKiB, classify: last.peakKiB }, last };
}

/** The blocks of `mode` ('pairs', or 'floor'), in `rounds` processes. */
function pairsOf(make, mode, rounds, warm) {
  const reads = [];
  const classifies = [];
  const ratios = [];
  const unsorted = [];
  let sessions = 0;

  for (let i = 0; i < rounds; i++) {
    const out = json(make(mode));

    sessions = out.sessions;
    for (const p of out.pairs.slice(warm)) {
      reads.push(p.read);
      classifies.push(p.classify);
      ratios.push(p.classify / p.read);
      if (p.unsorted !== undefined) unsorted.push(p.unsorted / p.read);
    }
  }

  return { read: median(reads), classify: median(classifies), ratio: median(ratios), low: quantile(ratios, 0.25), high: quantile(ratios, 0.75), sessions, unsorted: unsorted.length ? median(unsorted) : null };
}

function sessions(dir) {
  console.log('\n3. sessions: classify a generated conntrack table vs just read it (the same file, streamed in 64 KiB chunks, same runtime; medians of blocks of each, in turn)');
  const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
  // (floor: blocks of reads and of test/bench/floor.ts in turn, as pairs)
  const blocks = (mode, n) => (mode === 'pairs' || mode === 'floor' ? String(n) : '');
  const runtimes = [['Node', 1, (mode, file, every) => [process.execPath, '--expose-gc', join(OUT, 'sessions.mjs'), mode, file, blocks(mode, 5) || '9', String(every)]]];

  if (TJS) runtimes.unshift(['tjs', 0, (mode, file, every) => [TJS, 'run', join(OUT, 'sessions.tjs.mjs'), mode, file, blocks(mode, 4) || '5', String(every)]]);
  else console.log('   tjs: not measured here (set TJS=/path/to/tjs)');

  for (const entries of [65_536, 262_144]) {
    for (const every of [1000, 10]) {
      const file = join(dir, `conntrack-${entries}-${every}.txt`);
      const flows = Math.floor(entries / every);

      sh([process.execPath, join(OUT, 'generate.mjs'), file, String(entries), String(flows)]);
      const size = (statSync(file).size / 1024 / 1024).toFixed(1);

      for (const [name, warm, argv] of runtimes) {
        const rounds = Number(process.env.BENCH_SESSION_ROUNDS ?? 3);
        const r = sideBySide((mode) => argv(mode, file, every), rounds, warm);
        const kept = r.last.retainedKiB === null || r.last.retainedKiB === undefined ? '' : `; heap kept after GC ${r.last.retainedKiB} KiB`;

        console.log(`   ${name.padEnd(4)} ${String(entries).padStart(7)} entries (${size} MiB), 1 VPN flow in ${String(every).padEnd(4)} (${r.last.sessions} sessions): classify ${ms(r.classify)} vs read ${ms(r.read)} = ${r.ratio.toFixed(2)}x (middle half of the blocks ${r.low.toFixed(2)}-${r.high.toFixed(2)})  [target <= 3x]; peak RSS classify ${mib(r.peak.classify)}, read ${mib(r.peak.read)}${kept}`);
        // The same table's floor (test/bench/floor.ts): below it no classifier goes.
        const f = pairsOf((mode) => argv(mode, file, Math.floor(entries / flows)), 'floor', rounds, warm);

        console.log(`        floor for these ${f.sessions} sessions (find each line; for each VPN line only its fields, the Session, the sort): ${ms(f.classify)} vs read ${ms(f.read)} = ${f.ratio.toFixed(2)}x (middle half ${f.low.toFixed(2)}-${f.high.toFixed(2)}); left unsorted ${f.unsorted.toFixed(2)}x`);
      }
    }
    rmSync(join(dir, `conntrack-${entries}-1000.txt`), { force: true });
    rmSync(join(dir, `conntrack-${entries}-10.txt`), { force: true });
  }
}

async function footprint(dir) {
  console.log('\n4. footprint');
  const bundle = join(DIST, 'vpn-passthrough.js');

  console.log(`   bundle ${bundle}: ${(statSync(bundle).size / 1024).toFixed(1)} KiB  [target <= 100 KB]`);
  // The packages this version makes (dist/ may hold older ones too).
  for (const file of PACKAGES.flatMap((pkg) => [ipkName(pkg), apkName(pkg)])) console.log(`   ${file}: ${(statSync(join(DIST, file)).size / 1024).toFixed(1)} KiB`);

  // The daemon, in a namespace of its own with fw4's ruleset, against a played ubusd.
  const ns = `vpt-benchd-${process.pid}`;
  const statedir = join(dir, 'daemon-state');

  spawnSync('ip', ['netns', 'del', ns]);
  sh(['ip', 'netns', 'add', ns]);
  try {
    sh(['ip', '-n', ns, '-batch', '-'], 'link set lo up\nlink add br-lan type bridge\nlink add eth1 type veth peer name eth1-peer\n');
    sh(['ip', 'netns', 'exec', ns, 'nft', '-f', join(dir, 'fw4.nft')]);
    const runtimes = [['Node', process.execPath, join(OUT, 'vpn-passthrough.mjs')], ...(TJS ? [['tjs', TJS, 'run', bundle]] : [])];
    const idle = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
    const reloads = 20;
    const cpu = (x) => `${x.toFixed(1)} ms`;

    for (const [name, ...command] of runtimes) {
      const daemon = (flags) => {
        rmSync(statedir, { recursive: true, force: true });

        return json([process.execPath, join(OUT, 'daemon.mjs'), ns, join(dir, 'config'), statedir, join(dir, 'ubus.sock'), join(dir, 'fw4.nft'), String(idle), String(reloads), '--', ...command, ...flags]);
      };
      const [r, off] = [daemon([]), daemon(['--no-watchdog'])];
      const m = r.monitor;

      console.log(`   daemon under ${name}: start to ready (object published, rules applied) ${ms(r.ready)}; idle RSS ${r.rss.toFixed(1)} MiB${name === 'tjs' ? ' (information; measured on the target)' : ''}`);
      console.log(`     watchdog, idle ${idle} s: the daemon used ${cpu(r.idle.cpu_ms)} CPU (${cpu(off.idle.cpu_ms)} without the watchdog), RSS ${r.rss.toFixed(1)} vs ${off.rss.toFixed(1)} MiB; its nft monitor child ${m ? `${cpu(m.idle_cpu_ms)} CPU, RSS ${m.rss.toFixed(1)} MiB of which ${m.private.toFixed(1)} MiB its own (the rest shared libraries)` : 'NOT RUNNING'}`);
      console.log(`     watchdog, ${reloads} loads of fw4's ruleset (events it reads, not about our table): daemon ${cpu(r.reloads.cpu_ms)} vs ${cpu(off.reloads.cpu_ms)} without, nft monitor ${m ? cpu(m.reload_cpu_ms) : '-'}: ${m ? cpu((r.reloads.cpu_ms - off.reloads.cpu_ms + m.reload_cpu_ms) / reloads) : '-'} per fw4 reload`);
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

if (process.getuid?.() !== 0) {
  console.error('bench: needs root (network namespaces, nftables)');
  process.exit(1);
}
if (!existsSync(SHARED)) {
  console.error(`bench: the recorded fixtures are not at ${SHARED}: put the shared/ directory beside the repository, or set VPNPT_SHARED_FIXTURES`);
  process.exit(1);
}
// The forwarding figure drives the command the way the tests do (test/lib/cli.ts): the bundle built here.
process.env.VPNPT_TEST_OUT = OUT;

await build();
const dir = mkdtempSync(join(tmpdir(), 'vpnpt-bench-'));

try {
  machine();
  // What every figure's router has: fw4's genuine ruleset and config, a network config.
  mkdirSync(join(dir, 'config'));
  copyFileSync(join(SHARED, 'fw4/upstream-default.firewall.uci'), join(dir, 'config', 'firewall'));
  copyFileSync(join(ROOT, 'test/fixtures/network'), join(dir, 'config', 'network'));
  writeFileSync(join(dir, 'fw4.nft'), fw4Script('upstream-default'));
  if (want('apply')) await applyLatency(dir);
  if (want('forwarding')) forwarding();
  if (want('sessions')) sessions(dir);
  if (want('footprint')) await footprint(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
