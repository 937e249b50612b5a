// Benchmark 3 on txiki.js (informational, when TJS names a tjs binary): the
// same two modes as sessions.ts, through the tjs Platform adapter.
//
//   tjs run sessions.tjs.mjs read|classify FILE RUNS

import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { tjsPlatform } from '../../firmware/platform/tjs.ts';
import { time } from './stats.ts';

const platform = tjsPlatform();
const [mode, file, runs] = platform.args as [string, string, string];
const ms: number[] = [];
let sessions = 0;

for (let i = 0; i < Number(runs); i++) {
  ms.push(await time(async () => {
    if (mode === 'classify') {
      sessions = (await collectSessions(platform.readChunks(file), { inside: null })).sessions.length;
    } else {
      for await (const chunk of platform.readChunks(file)) void chunk;
    }
  }));
}

const status = new TextDecoder().decode(await tjs.readFile('/proc/self/status'));

platform.out(JSON.stringify({ ms, sessions, peakKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) }));
