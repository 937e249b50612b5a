// The firmware is type-checked against our own txiki.js 26 declarations,
// without Node's types or the DOM. Prove that check has teeth: code calling
// an API tjs 26 does not have, or a Node global, must fail to compile.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = process.cwd();
const dir = join(ROOT, 'dist', `tsc-probe-${process.pid}`);

function typecheck(source: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'probe.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: '../../tsconfig.json', include: ['probe.ts', '../../firmware/platform/tjs-api.d.ts', '../../firmware/platform/web.d.ts'], exclude: [] }),
  );
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' });

  return r.status === 0 ? '' : r.stdout;
}

test('the tjs adapter and the whole firmware compile against our declarations', () => {
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });

  assert.is(r.status, 0, r.stdout);
});

test('a correct use of the tjs 26 API compiles', () => {
  assert.is(typecheck(`export async function f() { const p = tjs.spawn(['nft', '-f', '-'], { stdin: 'pipe', stdout: 'pipe' }); await p.stdout!.text(); return (await p.wait()).exit_status + (await tjs.readFile('/x')).length; }\n`), '');
});

test('the TCP, UDP and lookup slice (txiki.js 26.6 sockets.js, lookup.js) compiles as the adapter uses it', () => {
  assert.is(typecheck(`export async function f() {
  const abort = new AbortController();
  const tcp = await (await tjs.connect('tcp', '192.0.2.1', 1723, { signal: abort.signal })).opened;
  const udp = await (await tjs.connect('udp', '192.0.2.1', 500)).opened;
  await udp.writable.getWriter().write({ data: new Uint8Array(1) });
  const { value } = await udp.readable.getReader().read();
  const found = await tjs.lookup('vpn.example.com', { all: true });
  return [tcp.localPort, value?.data.length, found[0]?.ip, crypto.getRandomValues(new Uint8Array(8)).length];
}
`), '');
});

for (const [what, source, expected] of [
  ['tjs 24 mkdir (26 has makeDir)', `export const f = () => tjs.mkdir('/x');`, /Property 'mkdir' does not exist/],
  ['the stale socket read(buf)', `export async function f() { const s = await tjs.connect('pipe', '/x'); return s.read(new Uint8Array(1)); }`, /Property 'read' does not exist/],
  ['stat().isFile() as a method', `export async function f() { return (await tjs.stat('/x')).isFile(); }`, /not callable/],
  ['a UDP write of bare bytes (tjs 26 takes {data})', `export async function f() { const u = await (await tjs.connect('udp', '192.0.2.1', 500)).opened; await u.writable.getWriter().write(new Uint8Array(1)); }`, /not assignable to parameter of type 'UDPMessage'/],
  ['Node process global', `export const f = () => process.argv;`, /Cannot find name 'process'/],
  ['Node Buffer global', `export const f = () => Buffer.from('x');`, /Cannot find name 'Buffer'/],
  ['a DOM-only API', `export const f = () => document.title;`, /Cannot find name 'document'/],
] as const) {
  test(`it rejects ${what}`, () => {
    assert.match(typecheck(source), expected);
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
