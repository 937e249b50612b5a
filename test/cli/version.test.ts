import { readFileSync } from 'node:fs';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { runCli } from '../lib/cli.ts';

const VERSION = readFileSync('VERSION', 'utf8').trim();

test('--version prints the one version number', () => {
  const r = runCli(['--version']);

  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `${VERSION}\n`);
});

test('an unknown command is a usage error naming it', () => {
  const r = runCli(['frobnicate']);

  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

test('a valued flag without its value is a usage error', () => {
  const r = runCli(['render', '--confdir']);

  assert.is(r.status, 2);
  assert.match(r.stderr, /--confdir needs a value/);
});

test.run();
