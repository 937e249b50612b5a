// Benchmark 3's modes, the same on Node and on txiki.js: only the Platform
// (and so the reads) differ. 'read' streams the file and drops the bytes;
// 'classify' streams it through the sessions classifier; 'pairs' runs RUNS
// blocks of each in turn, for a ratio both sides of which met the same
// load; 'floor' runs blocks of read, floor.ts and floor.ts left unsorted.

import { collectSessions } from '../../firmware/core/sessions/table.ts';
import type { Platform } from '../../firmware/platform/platform.ts';
import { floorSessions } from './floor.ts';
import { median, time } from './stats.ts';

export type Mode = 'read' | 'classify' | 'pairs' | 'floor';

export interface Runs {
  /** The time (ms) of each run ('read', 'classify'). */
  ms: number[];
  /** Each block's median ('pairs', 'floor'). */
  pairs: { read: number; classify: number; unsorted?: number }[];
  sessions: number;
}

/** `runs` runs (or blocks) of `mode` on `file`; `every`: floor.ts's spacing of VPN lines. */
export async function runMode(platform: Platform, mode: Mode, file: string, runs: number, every: number): Promise<Runs> {
  const out: Runs = { ms: [], pairs: [], sessions: 0 };
  const read = async () => {
    let n = 0;

    for await (const chunk of platform.readChunks(file)) n += chunk.length;
    if (n === 0) throw new Error('empty file');
  };
  const classify = async () => {
    out.sessions = (await collectSessions(platform.readChunks(file), { inside: null })).sessions.length;
  };
  // The least any classifier must do here (floor.ts), in place of classify.
  const floor = (sorted: boolean) => async () => {
    out.sessions = (await floorSessions(platform.readChunks(file), every, sorted)).length;
  };
  // Four runs of one, then four of the next: each in its own steady state
  // (a read right after a classification would pay for the garbage it
  // left), yet close enough in time to meet the same load.
  const block = async (fn: () => Promise<void>) => {
    const t: number[] = [];

    for (let k = 0; k < 4; k++) t.push(await time(fn));

    return median(t.slice(1));
  };

  for (let i = 0; i < runs; i++) {
    if (mode === 'floor') out.pairs.push({ read: await block(read), classify: await block(floor(true)), unsorted: await block(floor(false)) });
    else if (mode === 'pairs') out.pairs.push({ read: await block(read), classify: await block(classify) });
    else out.ms.push(await time(mode === 'classify' ? classify : read));
  }

  return out;
}
