// Benchmark 3 on Node: the modes of modes.ts, one mode per process so each
// peak RSS is its own. Prints one JSON line: the times (ms) of each run (or
// block), the sessions found, the process's peak RSS (VmHWM, KiB) and, for
// 'classify', the heap a classification keeps.
//
//   node sessions.mjs read|classify|pairs FILE RUNS
//   node sessions.mjs floor FILE RUNS EVERY   (blocks of read and floor.ts)

import { readFileSync } from 'node:fs';

import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { runMode, type Mode } from './modes.ts';

const [mode, file, runs, every] = process.argv.slice(2) as [Mode, string, string, string?];
const platform = nodePlatform([]);
const { ms, pairs, sessions } = await runMode(platform, mode, file, Number(runs), Number(every));

const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
// V8 lets garbage pile up while memory is plentiful, so peak RSS overstates
// what is kept: run once more and look at the live heap after a full GC.
const gc = (globalThis as { gc?: () => void }).gc;
let retainedKiB: number | null = null;

if (gc && mode === 'classify') {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = await collectSessions(platform.readChunks(file), { inside: null });

  gc();
  retainedKiB = Math.round((process.memoryUsage().heapUsed - before) / 1024);
  void kept;
}

console.log(JSON.stringify({ ms, pairs, sessions, peakKiB: peak, retainedKiB }));
