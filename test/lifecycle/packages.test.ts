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

import { OWN, SHARED } from '../lib/fixtures.ts';
import { PKG_VERSION } from '../lib/packages.ts';
import { Apk, openApk, openIpk, Opkg, type Package } from './pkg.ts';
import { callsOf, Router, type Run } from './router.ts';

const DEFAULT_CONFIG = readFileSync('files/etc/config/vpn-passthrough', 'utf8');
const USER_CONFIG = DEFAULT_CONFIG.replace("config protocol 'pptp'\n\toption enabled '1'", "config protocol 'pptp'\n\toption enabled '0'");
const STARTED = ['procd:started', 'vpn-passthrough', '/usr/bin/tjs run /usr/share/vpn-passthrough/vpn-passthrough.js daemon'];
const TABLE_STATE = '/var/state/nft/vpn_passthrough';

const out = mkdtempSync(join(tmpdir(), `vpnpt-lifecycle-${process.pid}-`));

execFileSync('sh', ['-c', 'node build/bundle.mjs "$0/vpn-passthrough.js" && node build/ipk.mjs "$0" && node build/apk.mjs "$0"', out], { stdio: 'pipe' });

const core = openIpk(join(out, `vpn-passthrough_${PKG_VERSION}_all.ipk`));
const luci = openIpk(join(out, `luci-app-vpn-passthrough_${PKG_VERSION}_all.ipk`));
const coreApk = openApk(join(out, `vpn-passthrough-${PKG_VERSION}.apk`));
const luciApk = openApk(join(out, `luci-app-vpn-passthrough-${PKG_VERSION}.apk`));

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
  assert.ok(router.read('/etc/uci-show/firewall').endsWith(`${INCLUDE.join('\n')}\n`), 'the section as uci shows it');
  router.sh('uci -q set firewall.vpn_passthrough.enabled=0');
  router.takeCalls();
  assert.is(run().status, 0);
  assert.equal(firewallCalls(), [['uci', '-q', 'get', 'firewall.vpn_passthrough']]);
  assert.match(router.read('/etc/uci-show/firewall'), /^firewall\.vpn_passthrough\.enabled='0'$/m);
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
  // The build host runs a firewall4 without our hooks: a script that forgot
  // IPKG_INSTROOT would reload it.
  firewall4(router);
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

// firewall4 and our hooks into it: the chain vpn_passthrough_forward with its
// jump (/usr/share/nftables.d) and the script include (the section our
// uci-defaults adds). firewall4 takes them up only when it renders, so the
// package reloads it, live, when it runs without them, and again at removal
// when its table still has our chain. fw4 is the double (doubles/fw4) with
// the real state files it writes (fixtures/fw4-state).

const FW4_STATE = '/var/run/fw4.state';
const FW4_CHAIN = '/var/state/nft/fw4.vpn_passthrough_forward';
const FW4_JUMP = '/var/state/nft/fw4.jump';
const DELETE_CHAIN = ['nft', 'delete', 'chain', 'inet', 'fw4', 'vpn_passthrough_forward'];
const RESTORE = ['tjs', 'run', '/usr/share/vpn-passthrough/vpn-passthrough.js', 'restore', '--trigger', 'firewall4'];
const RELOADED = "reloaded the firewall: firewall4 now has vpn-passthrough's chain vpn_passthrough_forward and firewall include";
const REMOVED = "reloaded the firewall: firewall4 no longer has vpn-passthrough's chain vpn_passthrough_forward and its jump";
const NOT_RUNNING = "firewall4 is not running: it takes up vpn-passthrough's chain and firewall include when it starts";
const fw4State = (name: 'loaded' | 'with-vpn-passthrough') => readFileSync(join(OWN, 'fw4-state', `${name}.json`), 'utf8');

/** firewall4 configured (/etc/config/firewall, `uci show` of the same), and
 * running as it was before our package (its real state) unless told otherwise. */
function firewall4(r: Router, running = true): void {
  r.write('/etc/config/firewall', readFileSync(join(SHARED, 'uci/config/firewall')));
  if (running) r.write(FW4_STATE, fw4State('loaded'));
}

/** opkg or apk behind one face: each returns the scripts' runs, in order. */
function manager(format: 'ipk' | 'apk', r: Router) {
  const pkgs = format === 'ipk' ? { core, luci } : { core: coreApk, luci: luciApk };

  if (format === 'ipk') {
    const opkg = new Opkg(r);

    return {
      add: (which: 'core' | 'luci', env: Record<string, string> = {}) => Object.values(opkg.install(pkgs[which], env)).filter((x): x is Run => x !== undefined),
      del: (which: 'core' | 'luci') => Object.values(opkg.remove(pkgs[which].name)),
    };
  }

  const apk = new Apk(r);

  return {
    add: (which: 'core' | 'luci') => [apk.add(pkgs[which])],
    del: (which: 'core' | 'luci') => Object.values(apk.del(pkgs[which].name)).filter((x): x is Run => x !== undefined),
  };
}

const ok = (runs: Run[]) => {
  for (const r of runs) assert.is(r.status, 0, r.stderr);
};
const at = (calls: string[][], call: string[]) => calls.findIndex((c) => c.join('\t') === call.join('\t'));
/** Our log lines about the firewall (not the service's own, e.g. "stopped: ..."). */
const firewallLogs = (calls: string[][]) => callsOf(calls, 'logger').filter((c) => /^(reloaded the firewall|firewall4 )/.test(c.at(-1)!));

for (const format of ['ipk', 'apk'] as const) {
  const pm = format === 'ipk' ? 'opkg' : 'apk';

  test(`${pm}: firewall4 running without our hooks is reloaded once at install, after uci-defaults; not for the LuCI package or an upgrade; once more at removal, after our files are gone`, () => {
    router = openwrt(format);
    firewall4(router);
    const m = manager(format, router);

    let runs = m.add('core');
    let calls = router.takeCalls();

    ok(runs);
    assert.equal(callsOf(calls, 'fw4'), [['fw4', 'reload']]);
    assert.ok(at(calls, ['uci', '-q', 'commit', 'firewall']) < at(calls, ['fw4', 'reload']), 'the include section is committed before the reload');
    // opkg runs our postinst before default_postinst starts the service, apk after.
    if (format === 'ipk') assert.ok(at(calls, ['fw4', 'reload']) < at(calls, STARTED), 'opkg: reload, then start');
    else assert.ok(at(calls, STARTED) < at(calls, ['fw4', 'reload']), 'apk: start, then reload');
    assert.ok(at(calls, RESTORE) > at(calls, ['fw4', 'reload']), 'the reload ran our script include');
    assert.ok(router.exists(FW4_CHAIN) && router.exists(FW4_JUMP), "fw4's table has our chain and the jump to it");
    assert.is(router.read(FW4_STATE), fw4State('with-vpn-passthrough'));
    assert.equal(firewallLogs(calls), [['logger', '-t', 'vpn-passthrough', '-p', 'daemon.notice', RELOADED]]);
    assert.match(runs.at(-1)!.stderr, `vpn-passthrough: ${RELOADED}\n`);
    assert.not.match(runs.at(-1)!.stderr, 'Automatically including', "fw4's chatter stays out when all went well");

    ok(m.add('luci'));
    assert.equal(callsOf(router.takeCalls(), 'fw4'), [], 'the LuCI package leaves the firewall alone');

    runs = m.add('core');
    calls = router.takeCalls();
    ok(runs);
    assert.equal(callsOf(calls, 'fw4'), [], 'an upgrade finds the hooks in place');
    assert.equal(firewallLogs(calls), []);
    assert.equal(lifecycle(calls), [['procd:stopped', 'vpn-passthrough'], STARTED], 'and restarts the daemon as before');
    assert.ok(router.exists(FW4_CHAIN));

    ok(m.del('luci'));
    assert.equal(callsOf(router.takeCalls(), 'fw4'), []);
    runs = m.del('core');
    calls = router.takeCalls();
    ok(runs);
    assert.equal(callsOf(calls, 'fw4'), [['fw4', 'reload']]);
    assert.ok(at(calls, ['uci', '-q', 'delete', 'firewall.vpn_passthrough']) < at(calls, ['fw4', 'reload']));
    // Rendered without our files and section: no jump, no include run; the
    // chain fw4 no longer declares (its flush keeps it) is deleted after.
    assert.ok(at(calls, ['fw4', 'reload']) < at(calls, DELETE_CHAIN), 'the orphaned chain deleted after the reload');
    assert.not.ok(router.exists(FW4_JUMP), 'no jump');
    assert.not.ok(router.exists(FW4_CHAIN), "fw4's table has no chain of ours");
    assert.is(router.read(FW4_STATE), fw4State('loaded'));
    assert.equal(callsOf(calls, 'tjs'), []);
    assert.equal(firewallLogs(calls), [['logger', '-t', 'vpn-passthrough', '-p', 'daemon.notice', REMOVED]]);
    assert.match(runs.at(-1)!.stderr, `vpn-passthrough: ${REMOVED}\n`);
  });

  test(`${pm}: firewall4 not running: install and removal leave it alone; its next start takes up our hooks`, () => {
    router = openwrt(format);
    firewall4(router, false);
    const m = manager(format, router);

    const runs = m.add('core');
    let calls = router.takeCalls();

    ok(runs);
    assert.equal(callsOf(calls, 'fw4'), []);
    assert.equal(callsOf(calls, 'nft').filter((c) => c.includes('fw4')), [], 'not even asked');
    assert.equal(firewallLogs(calls), [['logger', '-t', 'vpn-passthrough', '-p', 'daemon.info', NOT_RUNNING]]);

    const start = router.sh('/etc/init.d/firewall start');

    assert.is(start.status, 0, start.stderr);
    assert.ok(router.exists(FW4_CHAIN));
    assert.ok(callsOf(router.takeCalls(), 'tjs').some((c) => c.join(' ') === RESTORE.join(' ')), 'the start ran our include');
    router.sh('/etc/init.d/firewall stop');
    router.takeCalls();

    ok(m.del('core'));
    calls = router.takeCalls();
    assert.equal(callsOf(calls, 'fw4'), []);
    assert.equal(firewallLogs(calls), []);
  });

  test(`${pm}: firewall4 already having our chain and include is not reloaded`, () => {
    router = openwrt(format);
    firewall4(router);
    router.write(FW4_STATE, fw4State('with-vpn-passthrough'));
    router.write(FW4_CHAIN, '');
    router.write(FW4_JUMP, '');

    const runs = manager(format, router).add('core');
    const calls = router.takeCalls();

    ok(runs);
    assert.equal(callsOf(calls, 'nft').filter((c) => c.includes('fw4')), [['nft', '-t', 'list', 'chain', 'inet', 'fw4', 'vpn_passthrough_forward']]);
    assert.equal(callsOf(calls, 'fw4'), []);
    assert.equal(firewallLogs(calls), []);
  });
}

test("opkg: with firewall4's automatic includes off only the script include is missed, and an upgrade does not reload again", () => {
  router = openwrt('ipk');
  firewall4(router);
  router.write('/etc/uci-show/firewall', `${router.read('/etc/uci-show/firewall')}firewall.@defaults[0].auto_includes='0'\n`);
  const m = manager('ipk', router);

  ok(m.add('core'));
  let calls = router.takeCalls();

  assert.equal(callsOf(calls, 'fw4'), [['fw4', 'reload']]);
  assert.equal(firewallLogs(calls), [['logger', '-t', 'vpn-passthrough', '-p', 'daemon.notice', "reloaded the firewall: firewall4 now has vpn-passthrough's firewall include"]]);
  assert.not.ok(router.exists(FW4_CHAIN));

  ok(m.add('core'));
  calls = router.takeCalls();
  assert.equal(callsOf(calls, 'fw4'), []);
  assert.equal(firewallLogs(calls), []);

  ok(m.del('core'));
  assert.equal(callsOf(router.takeCalls(), 'fw4'), [], 'no chain of ours to remove');
});

test('opkg: a reload that fails to load the ruleset is logged with what fw4 said, and the install or removal goes on', () => {
  router = openwrt('ipk');
  firewall4(router);
  router.write('/var/state/nft/fw4.broken', '');
  const opkg = new Opkg(router);

  const { postinst } = opkg.install(core);
  let calls = router.takeCalls();

  assert.is(postinst.status, 0, postinst.stderr);
  assert.equal(callsOf(calls, 'fw4'), [['fw4', 'reload']]);
  assert.match(postinst.stderr, 'Error: Could not process rule');
  assert.equal(firewallLogs(calls), [
    [
      'logger', '-t', 'vpn-passthrough', '-p', 'daemon.err',
      "reloaded the firewall (exit code 0), but firewall4 still lacks vpn-passthrough's chain vpn_passthrough_forward: VPN servers behind the router stay unreachable until '/etc/init.d/firewall reload' succeeds",
    ],
  ]);
  assert.equal(lifecycle(calls), [STARTED], 'the service starts all the same');

  // Loaded at last; then the removal's reload fails: the jump stays, and so does the (emptied) chain.
  router.sh('rm /var/state/nft/fw4.broken && fw4 reload');
  assert.ok(router.exists(FW4_CHAIN) && router.exists(FW4_JUMP));
  router.write('/var/state/nft/fw4.broken', '');
  router.takeCalls();

  const { postrm } = opkg.remove(core.name);

  calls = router.takeCalls();
  assert.is(postrm.status, 0, postrm.stderr);
  assert.equal(callsOf(calls, 'fw4'), [['fw4', 'reload']]);
  assert.match(postrm.stderr, 'Error: Could not process rule');
  assert.equal(firewallLogs(calls), [
    [
      'logger', '-t', 'vpn-passthrough', '-p', 'daemon.err',
      "reloaded the firewall (exit code 0), but firewall4 still has vpn-passthrough's chain vpn_passthrough_forward (emptied: it opens nothing); '/etc/init.d/firewall restart' removes it",
    ],
  ]);
  assert.ok(router.exists(FW4_CHAIN));
});

test("opkg: run from within a firewall4 include (ACTION=includes, fw4 holds its lock) the postinst never calls fw4", () => {
  router = openwrt('ipk');
  firewall4(router);

  const { postinst } = new Opkg(router).install(core, { ACTION: 'includes' });
  const calls = router.takeCalls();

  assert.is(postinst.status, 0, postinst.stderr);
  assert.equal(callsOf(calls, 'fw4'), []);
  assert.equal(callsOf(calls, 'nft').filter((c) => c.includes('fw4')), []);
});

test('in an Image Builder (apk): the post-install scripts, run offline, only enable the service', () => {
  // include/rootfs.mk prepare_rootfs: apk add --no-scripts, then each
  // package's post-install from scripts.tar.gz with IPKG_INSTROOT set.
  router = new Router();
  firewall4(router);
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
