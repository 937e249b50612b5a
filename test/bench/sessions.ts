// Benchmark 3, one mode per process so each peak RSS is its own: 'read'
// streams the file through the Platform and drops the bytes; 'classify'
// streams it through the sessions classifier. Prints one JSON line: the
// times (ms) of each run, the sessions found, and the process's peak RSS
// (VmHWM, KiB).
//
//   node sessions.mjs read|classify FILE RUNS

import { readFileSync } from 'node:fs';

import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { time } from './stats.ts';

const [mode, file, runs] = process.argv.slice(2) as ['read' | 'classify', string, string];
const platform = nodePlatform([]);
const ms: number[] = [];
let sessions = 0;

for (let i = 0; i < Number(runs); i++) {
  ms.push(await time(async () => {
    if (mode === 'classify') {
      sessions = (await collectSessions(platform.readChunks(file), { inside: null })).sessions.length;
    } else {
      let n = 0;

      for await (const chunk of platform.readChunks(file)) n += chunk.length;
      if (n === 0) throw new Error('empty file');
    }
  }));
}

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

console.log(JSON.stringify({ ms, sessions, peakKiB: peak, retainedKiB }));
