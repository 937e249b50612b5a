// Benchmark 3, one mode per process so each peak RSS is its own: 'read'
// streams the file through the Platform and drops the bytes; 'classify'
// streams it through the sessions classifier; 'pairs' runs RUNS blocks of
// each in turn, for a ratio both sides of which met the same load.
// Prints one JSON line: the times (ms) of each run (or pair), the sessions
// found, and the process's peak RSS (VmHWM, KiB).
//
//   node sessions.mjs read|classify|pairs FILE RUNS
//   node sessions.mjs floor FILE RUNS EVERY   (pairs of read and floor.ts)

import { readFileSync } from 'node:fs';

import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { floorSessions } from './floor.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { median, time } from './stats.ts';

const [mode, file, runs, every] = process.argv.slice(2) as ['read' | 'classify' | 'pairs' | 'floor', string, string, string?];
const platform = nodePlatform([]);
const ms: number[] = [];
const pairs: { read: number; classify: number; unsorted?: number }[] = [];
let sessions = 0;

const read = async () => {
  let n = 0;

  for await (const chunk of platform.readChunks(file)) n += chunk.length;
  if (n === 0) throw new Error('empty file');
};
const classify = async () => {
  sessions = (await collectSessions(platform.readChunks(file), { inside: null })).sessions.length;
};
// The least any classifier must do here (floor.ts), in place of classify.
const floor = async () => {
  sessions = (await floorSessions(platform.readChunks(file), Number(every))).length;
};
const unsorted = async () => {
  sessions = (await floorSessions(platform.readChunks(file), Number(every), false)).length;
};

for (let i = 0; i < Number(runs); i++) {
  if (mode === 'pairs' || mode === 'floor') {
    // Four reads, then four classifications: each mode in its own steady
    // state (a read right after a classification would pay for the
    // garbage it left), yet close enough in time to meet the same load.
    const block = async (fn: () => Promise<void>) => {
      const t: number[] = [];

      for (let k = 0; k < 4; k++) t.push(await time(fn));

      return median(t.slice(1));
    };

    if (mode === 'floor') pairs.push({ read: await block(read), classify: await block(floor), unsorted: await block(unsorted) });
    else pairs.push({ read: await block(read), classify: await block(classify) });
  } else {
    ms.push(await time(mode === 'classify' ? classify : read));
  }
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

console.log(JSON.stringify({ ms, pairs, sessions, peakKiB: peak, retainedKiB }));
