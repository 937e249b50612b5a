// Every shell script we ship parses under OpenWrt's shell (busybox ash) and
// under dash (POSIX), as written and as OpenWrt's package builds wrap them.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { apkScripts } from '../../build/apk/openwrt.ts';
import { Router } from './router.ts';

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p))!;
const { makefileScript } = (await import(join(process.cwd(), 'build/ipk.mjs'))) as { makefileScript(name: string, script: string): string | undefined };

const SHIPPED = ['files/etc/init.d/vpn-passthrough', 'files/etc/uci-defaults/90-vpn-passthrough', 'files/usr/bin/vpn-passthrough', 'files/usr/share/vpn-passthrough/firewall.include'];

function parses(script: string, what: string): void {
  for (const shell of [[BUSYBOX, 'sh'], ['dash']]) {
    const r = spawnSync(shell[0]!, [...shell.slice(1), '-n'], { input: script, encoding: 'utf8' });

    assert.is(r.status, 0, `${shell.join(' ')} -n ${what}: ${r.stderr}`);
  }
}

test('the shipped scripts parse with busybox sh and dash', () => {
  for (const file of SHIPPED) parses(readFileSync(file, 'utf8'), file);
});

test('the maintainer scripts exist for both packages and parse, alone and as apk composes them', () => {
  for (const name of ['vpn-passthrough', 'luci-app-vpn-passthrough']) {
    const [postinst, prerm, postrm] = ['postinst', 'prerm', 'postrm'].map((s) => makefileScript(name, s));

    assert.ok(postinst && prerm && postrm, `${name}: Package/${name}/postinst, /prerm and /postrm in its Makefile`);
    parses(postinst!, `${name} postinst`);
    parses(prerm!, `${name} prerm`);
    parses(postrm!, `${name} postrm`);
    // No exit: apk runs them inline, after default_postinst / default_prerm.
    for (const s of [postinst!, prerm!]) assert.not.match(s, /^\s*(exit|return)\b/m, `${name}: no exit/return`);

    const composed = apkScripts(name, { postinst, prerm, postrm });

    assert.equal(Object.keys(composed), ['post-install', 'post-upgrade', 'pre-deinstall', 'post-deinstall']);
    for (const [script, text] of Object.entries(composed)) parses(text!, `${name} apk ${script}`);
  }
});

test('a broken script would be caught', () => {
  const r = spawnSync(BUSYBOX, ['sh', '-n'], { input: 'if true; then\n', encoding: 'utf8' });

  assert.is.not(r.status, 0);
});

test("firewall4's include, run as fw4 runs it, asks the service over ubus (or through our command) and never fails fw4", () => {
  const router = new Router();
  const include = '/usr/share/vpn-passthrough/firewall.include';
  // main.uc run_includes(): the lock's fd closed, UCI's `config` refused, the script sourced.
  const asFw4 = () => router.sh(`sh -c "exec 1000>&-; config() { echo 'You cannot use UCI in firewall includes!' >&2; exit 1; }; . '${include}'"`);

  try {
    router.install(include, `files${include}`, 0o644);
    router.install('/usr/bin/vpn-passthrough', 'files/usr/bin/vpn-passthrough', 0o755);
    router.install('/bin/ubus', 'test/lifecycle/doubles/record', 0o755);
    router.takeCalls();

    let r = asFw4();

    assert.is(r.status, 0, r.stderr);
    assert.equal(router.takeCalls(), [['ubus', '-t', '20', 'call', 'vpn-passthrough', 'restore', '{ "trigger": "firewall4" }']]);

    // No `ubus` command: our own client asks instead.
    router.sh('rm /bin/ubus');
    r = asFw4();
    assert.is(r.status, 0, r.stderr);
    assert.equal(router.takeCalls(), [['tjs', 'run', '/usr/share/vpn-passthrough/vpn-passthrough.js', 'restore', '--trigger', 'firewall4']]);

    // A failing ask (the service is stopped, tjs is missing...) is no failure of fw4's.
    router.sh('rm /usr/bin/tjs');
    r = asFw4();
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
  } finally {
    router.destroy();
  }
});

test('the command names the runtime package when tjs is missing', () => {
  const out = spawnSync('/bin/sh', ['files/usr/bin/vpn-passthrough', 'status'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });

  assert.is(out.status, 127);
  assert.match(out.stderr, /install the 'txiki' package/);
});

test.run();
