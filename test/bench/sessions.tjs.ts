// Benchmark 3 on txiki.js (when TJS names a tjs binary): the modes of
// modes.ts through the tjs Platform adapter, and the peak RSS.
//
//   tjs run sessions.tjs.mjs read|classify|pairs FILE RUNS   (pairs: RUNS blocks of each)
//   tjs run sessions.tjs.mjs floor FILE RUNS EVERY            (blocks of read and floor.ts)

import { tjsPlatform } from '../../firmware/platform/tjs.ts';
import { runMode, type Mode } from './modes.ts';

const platform = tjsPlatform();
const [mode, file, runs, every] = platform.args as [Mode, string, string, string?];
const out = await runMode(platform, mode, file, Number(runs), Number(every));
const status = new TextDecoder().decode(await tjs.readFile('/proc/self/status'));

platform.out(JSON.stringify({ ...out, peakKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) }));
