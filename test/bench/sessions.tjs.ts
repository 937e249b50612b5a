// Benchmark 3 on txiki.js (when TJS names a tjs binary): the same modes as
// sessions.ts, through the tjs Platform adapter.
//
//   tjs run sessions.tjs.mjs read|classify|pairs FILE RUNS   (pairs: RUNS blocks of each)
//   tjs run sessions.tjs.mjs floor FILE RUNS EVERY            (pairs of read and floor.ts)

import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { floorSessions } from './floor.ts';
import { tjsPlatform } from '../../firmware/platform/tjs.ts';
import { median, time } from './stats.ts';

const platform = tjsPlatform();
const [mode, file, runs, every] = platform.args as [string, string, string, string?];
const ms: number[] = [];
const pairs: { read: number; classify: number; unsorted?: number }[] = [];
let sessions = 0;

const read = async () => {
  for await (const chunk of platform.readChunks(file)) void chunk;
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

const status = new TextDecoder().decode(await tjs.readFile('/proc/self/status'));

platform.out(JSON.stringify({ ms, pairs, sessions, peakKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) }));
