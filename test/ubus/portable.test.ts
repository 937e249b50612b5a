// The ubus library on its own, as another project would lift it: bundled by
// the same bundler as the router build (which refuses any Node built-in or
// Node global), then loaded from that bundle and used against a recorded
// transcript, with nothing but a Conn and timers handed to it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { nodePlatform } from '../../firmware/platform/node.ts';
import { ReplayServer } from '../lib/ubus-replay.ts';
import { loadConn } from '../lib/ubus-transcript.ts';

const ROOT = process.cwd();
const tmp = mkdtempSync(join(tmpdir(), 'ubus-portable-'));

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('firmware/ubus bundles for tjs alone and works from the bundle', async () => {
  const entry = join(tmp, 'entry.ts');
  const out = join(tmp, 'ubus.mjs');
  const modules = ['client', 'errors', 'blobmsg', 'value', 'json', 'message'];

  writeFileSync(entry, modules.map((m) => `export * from '${join(ROOT, 'firmware/ubus', m + '.ts')}';`).join('\n'));
  const r = spawnSync('node', ['build/bundle.mjs', out, entry], { cwd: ROOT, encoding: 'utf8' });

  assert.is(r.status, 0, r.stderr);
  const lib = (await import(pathToFileURL(out).href)) as typeof import('../../firmware/ubus/client.ts') & typeof import('../../firmware/ubus/errors.ts');
  const socket = join(tmp, 'ubus.sock');
  const server = await ReplayServer.start(socket);
  const playback = server.play(loadConn('b1_call_uci_get.conn1'));

  try {
    const client = await lib.connect({ connect: nodePlatform([]).connect, path: socket, reconnect: false });
    const data = await client.call('uci', 'get', { config: 'system', type: 'system' });

    client.close();
    assert.equal((data?.values as Record<string, Record<string, unknown>>).cfg01e48a!.hostname, 'OpenWrt');
    assert.equal((await playback.result).errors, []);
  } finally {
    await server.close();
  }
});

test.run();
