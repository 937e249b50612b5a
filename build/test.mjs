// Runs the uvu tests: esbuild turns each test/**/*.test.ts into an ESM file
// under dist/test (tsc has checked the types already), then each file runs
// in its own Node process, so one that hangs or crashes is reported by name
// and cannot take the others down. Then the traffic tests (test/net) run
// once more while every CPU is kept busy by a spinning process (started
// here and killed by its PID): they must hold on a busy machine, as on CI.
//
//   node build/test.mjs [substring ...]     only the files whose path matches
//   TEST_LOAD=0 node build/test.mjs ...     without the run under load

import { spawn } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';

import * as esbuild from 'esbuild';

import { DIST, ROOT, VERSION } from './common.mjs';

const TIMEOUT_S = Number(process.env.TEST_TIMEOUT ?? 600);
// Each run compiles into its own directory, so runs side by side never
// delete each other's files; the tests find it in VPNPT_TEST_OUT.
const OUT = join(DIST, `test-${process.pid}`);

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);

    if (statSync(path).isDirectory()) return find(path);

    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = find(join(ROOT, 'test'))
  .map((path) => relative(ROOT, path))
  .filter((path) => filters.length === 0 || filters.some((f) => path.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`test: no test file matches ${filters.join(' ')}`);
  process.exit(1);
}

rmSync(OUT, { recursive: true, force: true });

// The command as tests run it under Node: $VPNPT_TEST_OUT/vpn-passthrough.mjs.
await esbuild.build({
  entryPoints: [join(ROOT, 'firmware/main.node.ts')],
  outfile: join(OUT, 'vpn-passthrough.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
  define: { __VERSION__: JSON.stringify(VERSION) },
});

await esbuild.build({
  entryPoints: files.map((f) => join(ROOT, f)),
  outdir: OUT,
  outbase: join(ROOT, 'test'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
  define: { __VERSION__: JSON.stringify(VERSION) },
});

function runFile(file, env = {}) {
  const compiled = join(OUT, relative('test', file)).replace(/\.ts$/, '.mjs');
  const code = `globalThis.UVU_DEFER = 1; const { run } = await import('uvu/run'); await run([{ name: ${JSON.stringify(file)}, file: ${JSON.stringify(compiled)} }]);`;

  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', code], {
      cwd: ROOT,
      env: { ...process.env, VPNPT_TEST_OUT: OUT, ...env },
      stdio: 'inherit',
      detached: true, // its own process group, so a timeout kills what it started too
    });
    const timer = setTimeout(() => {
      console.error(`\ntest: ${file} did not finish within ${TIMEOUT_S} s: killed`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, TIMEOUT_S * 1000);

    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve(status === 0 && !signal);
    });
  });
}

/** One process per CPU spinning at the tests' own priority, until killed. */
function startHogs() {
  const hogs = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const kill = () => {
    for (const h of hogs) {
      try {
        process.kill(h.pid, 'SIGKILL');
      } catch {}
    }
  };

  process.on('exit', kill);

  return { pids: hogs.map((h) => h.pid), kill };
}

const failed = [];
const started = Date.now();

for (const file of files) {
  console.log(`\n=== ${file}`);
  if (!(await runFile(file))) failed.push(file);
}

const traffic = files.filter((f) => f.startsWith('test/net/'));

if (traffic.length > 0 && process.env.TEST_LOAD !== '0') {
  const hogs = startHogs();

  console.log(`\n=== the traffic tests again, every CPU busy (spinning processes ${hogs.pids.join(', ')})`);
  for (const file of traffic) {
    console.log(`\n=== ${file} (under load)`);
    if (!(await runFile(file, { VPNPT_UNDER_LOAD: '1' }))) failed.push(`${file} (under load)`);
  }
  hogs.kill();
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);

rmSync(OUT, { recursive: true, force: true });

if (failed.length > 0) {
  console.error(`\ntest: ${failed.length} of ${files.length + traffic.length} runs FAILED (${seconds} s):\n  ${failed.join('\n  ')}`);
  process.exit(1);
}

console.log(`\ntest: all ${files.length} files passed${traffic.length && process.env.TEST_LOAD !== '0' ? `, ${traffic.length} of them again under load` : ''} (${seconds} s)`);
