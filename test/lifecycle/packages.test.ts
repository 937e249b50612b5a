// Install, upgrade and remove both packages the way a router does, for real:
// the .ipk's own maintainer scripts run under busybox sh in a small OpenWrt
// root (see router.ts, pkg.ts), with opkg's order (OpenWrt ≤ 24.10) and with
// the scripts OpenWrt composes for apk (25.x).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Apk, openIpk, Opkg, type Package } from './pkg.ts';
import { callsOf, Router } from './router.ts';

const VERSION = readFileSync('VERSION', 'utf8').trim();
const DEFAULT_CONFIG = readFileSync('files/etc/config/vpn-passthrough', 'utf8');
const USER_CONFIG = DEFAULT_CONFIG.replace("config protocol 'pptp'\n\toption enabled '1'", "config protocol 'pptp'\n\toption enabled '0'");
const STARTED = ['procd:started', 'vpn-passthrough', '/usr/bin/tjs run /usr/share/vpn-passthrough/vpn-passthrough.js daemon'];
const TABLE_STATE = '/var/state/nft/vpn_passthrough';

const out = mkdtempSync(join(tmpdir(), `vpnpt-lifecycle-${process.pid}-`));

execFileSync('sh', ['-c', 'node build/bundle.mjs "$0/vpn-passthrough.js" && node build/ipk.mjs "$0"', out], { stdio: 'pipe' });

const core = openIpk(join(out, `vpn-passthrough_${VERSION}_all.ipk`));
const luci = openIpk(join(out, `luci-app-vpn-passthrough_${VERSION}_all.ipk`));

let router: Router;

test.after.each(() => router?.destroy());
test.after(() => rmSync(out, { recursive: true, force: true }));

/** What procd did with the daemon: stopped / started events, in order. */
const lifecycle = (calls: string[][]) => calls.filter((c) => c[0] === 'procd:stopped' || c[0] === 'procd:started');

function lucicaches(r: Router): void {
  r.write('/tmp/luci-indexcache.1b756362.json', '{}', 0o600);
  r.write('/tmp/luci-indexcache', '{}');
  r.write('/tmp/luci-modulecache/x.lua', '');
}

test('opkg install: config, uci-defaults once, enabled and started, LuCI cache cleared, rpcd reloaded', () => {
  router = new Router();
  lucicaches(router);
  const opkg = new Opkg(router);

  const { postinst } = opkg.install(core);
  let calls = router.takeCalls();

  assert.is(postinst.status, 0, postinst.stderr);
  assert.is(router.read('/etc/config/vpn-passthrough'), DEFAULT_CONFIG);
  assert.not.ok(router.exists('/etc/uci-defaults/90-vpn-passthrough'), 'uci-defaults ran and were removed');
  assert.equal(callsOf(calls, 'uci').filter((c) => c[1] === 'commit'), [['uci', 'commit']]);
  assert.not.ok(router.exists('/tmp/luci-indexcache.1b756362.json'));
  assert.is(router.sh('readlink /etc/rc.d/S20vpn-passthrough').stdout, '../init.d/vpn-passthrough\n');
  assert.equal(callsOf(calls, 'procd:started'), [STARTED]);
  assert.ok(router.exists(TABLE_STATE));

  const luciInstall = opkg.install(luci).postinst;

  calls = router.takeCalls();
  assert.is(luciInstall.status, 0, luciInstall.stderr);
  assert.not.ok(router.exists('/tmp/luci-indexcache'));
  assert.not.ok(router.exists('/tmp/luci-modulecache'));
  assert.equal(callsOf(calls, 'rpcd'), [['rpcd', 'reload']]);

  // Where the router expects each file, with its mode.
  for (const [path, mode] of [
    ['/etc/init.d/vpn-passthrough', 0o755],
    ['/usr/bin/vpn-passthrough', 0o755],
    ['/etc/config/vpn-passthrough', 0o600],
    ['/usr/share/vpn-passthrough/vpn-passthrough.js', 0o644],
    ['/www/luci-static/resources/view/vpn-passthrough/overview.js', 0o644],
    ['/usr/share/luci/menu.d/luci-app-vpn-passthrough.json', 0o644],
    ['/usr/share/rpcd/acl.d/luci-app-vpn-passthrough.json', 0o644],
  ] as const) {
    assert.is(router.mode(path).toString(8), mode.toString(8), path);
  }
});

test('uci-defaults writes the default config only when there is none', () => {
  router = new Router();
  router.install('/etc/uci-defaults/90-vpn-passthrough', 'files/etc/uci-defaults/90-vpn-passthrough', 0o644);

  const run = () => router.sh('cd /etc/uci-defaults && . ./90-vpn-passthrough');

  assert.is(run().status, 0);
  assert.is(router.read('/etc/config/vpn-passthrough'), DEFAULT_CONFIG, 'the same defaults as the packaged config');
  assert.is(router.mode('/etc/config/vpn-passthrough'), 0o600);

  router.write('/etc/config/vpn-passthrough', USER_CONFIG, 0o600);
  assert.is(run().status, 0);
  assert.is(router.read('/etc/config/vpn-passthrough'), USER_CONFIG, 'an existing config is never touched');
});

test('opkg upgrade keeps the changed config and restarts the daemon, the rules staying in place', () => {
  router = new Router();
  const opkg = new Opkg(router);

  opkg.install(core);
  opkg.install(luci);
  router.write('/etc/config/vpn-passthrough', USER_CONFIG, 0o600);
  router.takeCalls();

  const { prerm, postinst } = opkg.install(core);
  const calls = router.takeCalls();

  assert.is(prerm!.status, 0, prerm!.stderr);
  assert.is(postinst.status, 0, postinst.stderr);
  assert.is(router.read('/etc/config/vpn-passthrough'), USER_CONFIG);
  assert.is(router.read('/etc/config/vpn-passthrough-opkg'), DEFAULT_CONFIG, "opkg's copy of the new default");
  assert.equal(callsOf(calls, 'nft'), [], 'the table is not removed for an upgrade');
  assert.ok(router.exists(TABLE_STATE));
  assert.ok(router.exists('/etc/rc.d/S20vpn-passthrough'), 'still enabled');
  assert.equal(lifecycle(calls), [['procd:stopped', 'vpn-passthrough'], STARTED], 'the old daemon stopped, the new one started');
});

for (const changed of [false, true]) {
  test(`opkg remove stops, removes the table and leaves ${changed ? 'only the changed config' : 'nothing'} behind`, () => {
    router = new Router();
    const baseline = router.files();
    const opkg = new Opkg(router);

    opkg.install(core);
    opkg.install(luci);
    router.write('/var/run/vpn-passthrough/last-apply.json', '{}');
    if (changed) router.write('/etc/config/vpn-passthrough', USER_CONFIG, 0o600);
    router.takeCalls();

    const luciRemove = opkg.remove(luci.name);
    const coreRemove = opkg.remove(core.name);
    const calls = router.takeCalls();

    assert.is(luciRemove.status, 0, luciRemove.stderr);
    assert.is(coreRemove.status, 0, coreRemove.stderr);
    assert.match(coreRemove.stderr, /removed table inet vpn_passthrough/);
    assert.equal(callsOf(calls, 'nft').filter((c) => c[1] === 'delete'), [['nft', 'delete', 'table', 'inet', 'vpn_passthrough']]);
    assert.not.ok(router.exists(TABLE_STATE));
    assert.not.ok(router.exists('/var/run/procd/vpn-passthrough'), 'the daemon is stopped');
    assert.equal(router.files(), [...baseline, ...(changed ? ['/etc/config/vpn-passthrough'] : [])].sort());
    if (changed) assert.is(router.read('/etc/config/vpn-passthrough'), USER_CONFIG);
  });
}

test('in an Image Builder (IPKG_INSTROOT) the scripts only enable the service', () => {
  router = new Router();
  const rootfs = '/rootfs';
  const place = (pkg: Package) => {
    for (const m of pkg.files.filter((f) => f.type === '0')) router.write(`${rootfs}${m.name.slice(1)}`, m.data, m.mode);
    for (const [file, text] of pkg.control) router.write(`${rootfs}/usr/lib/opkg/info/${pkg.name}.${file}`, text, 0o755);
    router.write(`${rootfs}/usr/lib/opkg/info/${pkg.name}.list`, pkg.files.filter((f) => f.type === '0').map((f) => f.name.slice(1)).join('\n') + '\n');
  };

  for (const f of ['/etc/rc.common', '/lib/functions.sh', '/lib/functions/procd.sh']) router.write(`${rootfs}${f}`, router.read(f), 0o755);
  router.sh(`mkdir -p ${rootfs}/etc/rc.d`);
  place(core);
  place(luci);

  const opkg = new Opkg(router);

  for (const pkg of [core, luci]) {
    const r = opkg.postinstOffline(pkg, rootfs);

    assert.is(r.status, 0, r.stderr);
  }
  assert.is(router.sh(`readlink ${rootfs}/etc/rc.d/S20vpn-passthrough`).stdout, '../init.d/vpn-passthrough\n');
  assert.ok(router.exists(`${rootfs}/etc/uci-defaults/90-vpn-passthrough`), 'uci-defaults wait for the first boot');
  assert.equal(router.takeCalls(), [], 'nothing runs on the build host');
});

test('apk (OpenWrt 25): install, upgrade keeping the config, remove', () => {
  router = new Router();
  const baseline = router.files();
  const apk = new Apk(router);

  for (const pkg of [core, luci]) {
    const r = apk.add(pkg);

    assert.is(r.status, 0, r.stderr);
  }
  let calls = router.takeCalls();

  assert.is(router.read('/etc/config/vpn-passthrough'), DEFAULT_CONFIG);
  assert.ok(router.exists('/etc/rc.d/S20vpn-passthrough'));
  assert.equal(callsOf(calls, 'procd:started'), [STARTED]);
  assert.equal(callsOf(calls, 'rpcd'), [['rpcd', 'reload']]);

  router.write('/etc/config/vpn-passthrough', USER_CONFIG, 0o600);
  const upgrade = apk.add(core);

  calls = router.takeCalls();
  assert.is(upgrade.status, 0, upgrade.stderr);
  assert.is(router.read('/etc/config/vpn-passthrough'), USER_CONFIG);
  // apk runs no script of the old version: our postinst restarts the daemon.
  assert.equal(lifecycle(calls), [['procd:stopped', 'vpn-passthrough'], STARTED]);
  assert.equal(callsOf(calls, 'nft'), []);

  for (const name of [luci.name, core.name]) {
    const r = apk.del(name);

    assert.is(r.status, 0, r.stderr);
  }
  calls = router.takeCalls();
  assert.equal(callsOf(calls, 'nft').filter((c) => c[1] === 'delete'), [['nft', 'delete', 'table', 'inet', 'vpn_passthrough']]);
  assert.not.ok(router.exists('/etc/rc.d/S20vpn-passthrough'));
  assert.equal(router.files(), [...baseline, '/etc/config/vpn-passthrough', '/etc/config/vpn-passthrough.apk-new'].sort());
});

test.run();
