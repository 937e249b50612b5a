// Install, upgrade and remove both packages the way a router does, for real:
// the maintainer scripts our .ipk and .apk carry run under busybox sh in a
// small OpenWrt root (see router.ts, pkg.ts), with opkg's order (OpenWrt
// ≤ 24.10) and apk's (25.x).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Apk, openApk, openIpk, Opkg, type Package } from './pkg.ts';
import { callsOf, Router } from './router.ts';

const VERSION = `${readFileSync('VERSION', 'utf8').trim()}-r${readFileSync('RELEASE', 'utf8').trim()}`;
const DEFAULT_CONFIG = readFileSync('files/etc/config/vpn-passthrough', 'utf8');
const USER_CONFIG = DEFAULT_CONFIG.replace("config protocol 'pptp'\n\toption enabled '1'", "config protocol 'pptp'\n\toption enabled '0'");
const STARTED = ['procd:started', 'vpn-passthrough', '/usr/bin/tjs run /usr/share/vpn-passthrough/vpn-passthrough.js daemon'];
const TABLE_STATE = '/var/state/nft/vpn_passthrough';

const out = mkdtempSync(join(tmpdir(), `vpnpt-lifecycle-${process.pid}-`));

execFileSync('sh', ['-c', 'node build/bundle.mjs "$0/vpn-passthrough.js" && node build/ipk.mjs "$0" && node build/apk.mjs "$0"', out], { stdio: 'pipe' });

const core = openIpk(join(out, `vpn-passthrough_${VERSION}_all.ipk`));
const luci = openIpk(join(out, `luci-app-vpn-passthrough_${VERSION}_all.ipk`));
const coreApk = openApk(join(out, `vpn-passthrough-${VERSION}.apk`));
const luciApk = openApk(join(out, `luci-app-vpn-passthrough-${VERSION}.apk`));

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

/** A router root with the directories OpenWrt's other packages own: base-files,
 * luci-base, rpcd, firewall4 (and, on 25.x, apk's /lib/apk/packages). */
function openwrt(format: 'ipk' | 'apk'): Router {
  const r = new Router();
  // (and the runtime state of uci, procd and nft)
  const dirs = ['/usr/share/luci/menu.d', '/usr/share/rpcd/acl.d', '/usr/share/nftables.d', '/www/luci-static/resources/view', '/tmp/.uci', '/var/run/procd', '/var/state/nft', ...(format === 'apk' ? ['/lib/apk/packages'] : [])];

  r.sh(`mkdir -p ${dirs.join(' ')}`);

  return r;
}

/** Where the router expects each file, with its mode. */
const MODES = [
  ['/etc/init.d/vpn-passthrough', 0o755],
  ['/usr/bin/vpn-passthrough', 0o755],
  ['/etc/config/vpn-passthrough', 0o600],
  ['/usr/share/vpn-passthrough/vpn-passthrough.js', 0o644],
  ['/www/luci-static/resources/view/vpn-passthrough/overview.js', 0o644],
  ['/usr/share/luci/menu.d/luci-app-vpn-passthrough.json', 0o644],
  ['/usr/share/rpcd/acl.d/luci-app-vpn-passthrough.json', 0o644],
] as const;

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

  for (const [path, mode] of MODES) assert.is(router.mode(path).toString(8), mode.toString(8), path);
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

const INCLUDE = ['firewall.vpn_passthrough=include', "firewall.vpn_passthrough.type='script'", "firewall.vpn_passthrough.path='/usr/share/vpn-passthrough/firewall.include'", "firewall.vpn_passthrough.fw4_compatible='1'"];

test("uci-defaults adds firewall4's include for our script once, and only where firewall4 is configured", () => {
  router = new Router();
  router.install('/etc/uci-defaults/90-vpn-passthrough', 'files/etc/uci-defaults/90-vpn-passthrough', 0o644);
  const run = () => router.sh('cd /etc/uci-defaults && . ./90-vpn-passthrough');
  const firewallCalls = () => callsOf(router.takeCalls(), 'uci').filter((c) => c.some((a) => a.startsWith('firewall')));

  router.takeCalls();
  assert.is(run().status, 0);
  assert.equal(firewallCalls(), [], 'no /etc/config/firewall: no firewall4 to hook into');

  router.write('/etc/config/firewall', '');
  assert.is(run().status, 0);
  assert.equal(firewallCalls(), [
    ['uci', '-q', 'get', 'firewall.vpn_passthrough'],
    ['uci', '-q', 'set', 'firewall.vpn_passthrough=include'],
    ['uci', '-q', 'set', 'firewall.vpn_passthrough.type=script'],
    ['uci', '-q', 'set', 'firewall.vpn_passthrough.path=/usr/share/vpn-passthrough/firewall.include'],
    ['uci', '-q', 'set', 'firewall.vpn_passthrough.fw4_compatible=1'],
    ['uci', '-q', 'commit', 'firewall'],
  ]);

  // Once there (`uci show firewall` lists it), it is left as it is, even if the owner changed it.
  router.write('/etc/uci-show/firewall', `${router.read('/etc/uci-show/firewall')}${INCLUDE.join('\n')}\nfirewall.vpn_passthrough.enabled='0'\n`);
  assert.is(run().status, 0);
  assert.equal(firewallCalls(), [['uci', '-q', 'get', 'firewall.vpn_passthrough']]);
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
  test(`opkg remove stops, removes the table and leaves ${changed ? 'only the changed config' : 'nothing'} behind, no directory either`, () => {
    router = openwrt('ipk');
    const baseline = router.files();
    const baseDirs = router.dirs();
    const opkg = new Opkg(router);

    opkg.install(core);
    opkg.install(luci);
    router.write('/var/run/vpn-passthrough/last-apply.json', '{}');
    router.write('/etc/uci-show/firewall', `${router.read('/etc/uci-show/firewall')}${INCLUDE.join('\n')}\n`);
    if (changed) router.write('/etc/config/vpn-passthrough', USER_CONFIG, 0o600);
    router.takeCalls();

    const luciRemove = opkg.remove(luci.name);
    const coreRemove = opkg.remove(core.name);
    const calls = router.takeCalls();

    for (const r of [luciRemove.prerm, luciRemove.postrm, coreRemove.prerm, coreRemove.postrm]) assert.is(r.status, 0, r.stderr);
    assert.match(coreRemove.prerm.stderr, /removed table inet vpn_passthrough/);
    assert.equal(callsOf(calls, 'nft').filter((c) => c[1] === 'delete'), [['nft', 'delete', 'table', 'inet', 'vpn_passthrough']]);
    // Our firewall include goes (as `uci show firewall` lists it here), and nothing else of firewall4's.
    assert.equal(callsOf(calls, 'uci').filter((c) => c.some((a) => a.startsWith('firewall'))), [
      ['uci', '-q', 'get', 'firewall.vpn_passthrough.path'],
      ['uci', '-q', 'delete', 'firewall.vpn_passthrough'],
      ['uci', '-q', 'commit', 'firewall'],
    ]);
    assert.not.ok(router.exists(TABLE_STATE));
    assert.not.ok(router.exists('/var/run/procd/vpn-passthrough'), 'the daemon is stopped');
    assert.equal(router.files(), [...baseline, ...(changed ? ['/etc/config/vpn-passthrough'] : [])].sort());
    // opkg leaves directories behind: our postrm removes ours.
    assert.equal(router.dirs(), baseDirs, 'no directory of ours is left');
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

test('apk add: config, uci-defaults once, enabled and started, LuCI cache cleared, rpcd reloaded; the files of the .ipk', () => {
  router = openwrt('apk');
  lucicaches(router);
  const apk = new Apk(router);

  const r = apk.add(coreApk);
  let calls = router.takeCalls();

  assert.is(r.status, 0, r.stderr);
  assert.is(router.read('/etc/config/vpn-passthrough'), DEFAULT_CONFIG);
  assert.not.ok(router.exists('/etc/uci-defaults/90-vpn-passthrough'), 'uci-defaults ran and were removed');
  assert.equal(callsOf(calls, 'uci').filter((c) => c[1] === 'commit'), [['uci', 'commit']]);
  assert.not.ok(router.exists('/tmp/luci-indexcache.1b756362.json'));
  assert.is(router.sh('readlink /etc/rc.d/S20vpn-passthrough').stdout, '../init.d/vpn-passthrough\n');
  assert.equal(callsOf(calls, 'procd:started'), [STARTED]);
  assert.ok(router.exists(TABLE_STATE));

  const luciInstall = apk.add(luciApk);

  calls = router.takeCalls();
  assert.is(luciInstall.status, 0, luciInstall.stderr);
  assert.not.ok(router.exists('/tmp/luci-indexcache'));
  assert.not.ok(router.exists('/tmp/luci-modulecache'));
  assert.equal(callsOf(calls, 'rpcd'), [['rpcd', 'reload']]);
  for (const [path, mode] of MODES) assert.is(router.mode(path).toString(8), mode.toString(8), path);

  // What OpenWrt 25.12's tools read: the file lists and the conffiles with their checksums.
  const list = (p: Package) => p.files.filter((m) => m.type === '0').map((m) => m.name.slice(1)).filter((f) => !f.startsWith('/lib/apk/'));

  assert.equal(router.read('/lib/apk/packages/vpn-passthrough.list').split('\n').filter(Boolean), list(core).sort());
  assert.equal(router.read('/lib/apk/packages/luci-app-vpn-passthrough.list').split('\n').filter(Boolean), list(luci).sort());
  assert.is(router.read('/lib/apk/packages/vpn-passthrough.conffiles'), '/etc/config/vpn-passthrough\n');
  assert.match(router.read('/lib/apk/packages/vpn-passthrough.conffiles_static'), /^\/etc\/config\/vpn-passthrough [0-9a-f]{64}\n$/);
});

test('apk upgrade keeps the changed config (the new default as .apk-new) and restarts the daemon, the rules staying in place', () => {
  router = openwrt('apk');
  const apk = new Apk(router);

  apk.add(coreApk);
  apk.add(luciApk);
  router.write('/etc/config/vpn-passthrough', USER_CONFIG, 0o600);
  router.takeCalls();

  const upgrade = apk.add(coreApk);
  const calls = router.takeCalls();

  assert.is(upgrade.status, 0, upgrade.stderr);
  assert.is(router.read('/etc/config/vpn-passthrough'), USER_CONFIG);
  assert.is(router.read('/etc/config/vpn-passthrough.apk-new'), DEFAULT_CONFIG, "apk's copy of the new default");
  // apk runs no script of the old version: our post-upgrade restarts the daemon.
  assert.equal(lifecycle(calls), [['procd:stopped', 'vpn-passthrough'], STARTED]);
  assert.equal(callsOf(calls, 'nft'), [], 'the table is not removed for an upgrade');
  assert.ok(router.exists(TABLE_STATE));
  assert.ok(router.exists('/etc/rc.d/S20vpn-passthrough'), 'still enabled');
});

for (const changed of [false, true]) {
  test(`apk del stops, removes the table and leaves ${changed ? 'only the changed config' : 'nothing'} behind, no directory either`, () => {
    router = openwrt('apk');
    const baseline = router.files();
    const baseDirs = router.dirs();
    const apk = new Apk(router);

    apk.add(coreApk);
    apk.add(luciApk);
    router.write('/var/run/vpn-passthrough/last-apply.json', '{}');
    router.write('/etc/uci-show/firewall', `${router.read('/etc/uci-show/firewall')}${INCLUDE.join('\n')}\n`);
    if (changed) {
      router.write('/etc/config/vpn-passthrough', USER_CONFIG, 0o600);
      apk.add(coreApk);
      assert.ok(router.exists('/etc/config/vpn-passthrough.apk-new'));
    }
    router.takeCalls();

    const luciDel = apk.del(luciApk.name);
    const coreDel = apk.del(coreApk.name);
    const calls = router.takeCalls();

    for (const r of [luciDel.preDeinstall, luciDel.postDeinstall!, coreDel.preDeinstall, coreDel.postDeinstall!]) assert.is(r.status, 0, r.stderr);
    assert.match(coreDel.preDeinstall.stderr, /removed table inet vpn_passthrough/);
    assert.equal(callsOf(calls, 'nft').filter((c) => c[1] === 'delete'), [['nft', 'delete', 'table', 'inet', 'vpn_passthrough']]);
    assert.equal(callsOf(calls, 'uci').filter((c) => c[2] === 'delete'), [['uci', '-q', 'delete', 'firewall.vpn_passthrough']], 'our firewall include goes');
    assert.not.ok(router.exists(TABLE_STATE));
    assert.not.ok(router.exists('/var/run/procd/vpn-passthrough'), 'the daemon is stopped');
    assert.not.ok(router.exists('/etc/rc.d/S20vpn-passthrough'), 'disabled');
    assert.equal(router.files(), [...baseline, ...(changed ? ['/etc/config/vpn-passthrough'] : [])].sort(), 'the .apk-new goes too');
    assert.equal(router.dirs(), baseDirs, 'no directory of ours is left');
    if (changed) assert.is(router.read('/etc/config/vpn-passthrough'), USER_CONFIG);
  });
}

test('in an Image Builder (apk): the post-install scripts, run offline, only enable the service', () => {
  // include/rootfs.mk prepare_rootfs: apk add --no-scripts, then each
  // package's post-install from scripts.tar.gz with IPKG_INSTROOT set.
  router = new Router();
  const rootfs = '/rootfs';

  for (const f of ['/etc/rc.common', '/lib/functions.sh', '/lib/functions/procd.sh']) router.write(`${rootfs}${f}`, router.read(f), 0o755);
  router.sh(`mkdir -p ${rootfs}/etc/rc.d`);
  for (const pkg of [coreApk, luciApk]) {
    for (const m of pkg.files.filter((f) => f.type === '0')) router.write(`${rootfs}${m.name.slice(1)}`, m.data, m.mode);
  }
  for (const pkg of [coreApk, luciApk]) {
    router.write(`/tmp/${pkg.name}.post-install`, pkg.control.get('post-install')!, 0o755);

    const r = router.sh(`IPKG_INSTROOT=${rootfs} /tmp/${pkg.name}.post-install`);

    assert.is(r.status, 0, r.stderr);
  }
  assert.is(router.sh(`readlink ${rootfs}/etc/rc.d/S20vpn-passthrough`).stdout, '../init.d/vpn-passthrough\n');
  assert.ok(router.exists(`${rootfs}/etc/uci-defaults/90-vpn-passthrough`), 'uci-defaults wait for the first boot');
  assert.equal(router.takeCalls(), [], 'nothing runs on the build host');
});

test.run();
