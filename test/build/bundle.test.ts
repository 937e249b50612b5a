// The shipped bundle must run on txiki.js: no Node built-in, no Node global.
// These tests feed the real bundler forbidden code and require it to refuse.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = process.cwd();
const tmp = mkdtempSync(join(tmpdir(), 'vpnpt-bundle-'));

function bundle(source: string) {
  const entry = join(tmp, `entry-${Math.random().toString(36).slice(2)}.ts`);

  writeFileSync(entry, source);
  const r = spawnSync('node', ['build/bundle.mjs', join(tmp, 'out.js'), entry], { cwd: ROOT, encoding: 'utf8' });

  return { status: r.status, stderr: r.stderr };
}

test('the real bundle builds and is one self-contained ESM file', () => {
  const r = bundle(`import '${join(ROOT, 'firmware/main.tjs.ts')}';`);

  assert.is(r.status, 0, r.stderr);
  const text = readFileSync(join(tmp, 'out.js'), 'utf8');

  assert.not.match(text, /\bimport\s*\(|\bimport\s*["'{*]|\brequire\(/);
});

for (const [what, source, expected] of [
  ['node:fs import', `import { readFileSync } from 'node:fs'; console.log(readFileSync);`, /Node built-in 'node:fs'/],
  ['bare built-in import', `import * as os from 'os'; console.log(os);`, /Node built-in 'os'/],
  ['process global', `console.log(process.env.HOME);`, /Node global\(s\) process/],
  ['Buffer global', `console.log(Buffer.from('x'));`, /Node global\(s\) Buffer/],
  ['require call', `console.log(require('fs'));`, /Node global\(s\) require/],
] as const) {
  test(`the bundler refuses a ${what}`, () => {
    const r = bundle(source);

    assert.is(r.status, 1);
    assert.match(r.stderr, expected);
  });
}

test('a string or property that merely says "process" is fine', () => {
  const r = bundle(`const o = { process: 1, Buffer: 2 }; console.log('process Buffer require', o.process, o.Buffer);`);

  assert.is(r.status, 0, r.stderr);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
