// The procd init script, run for real by busybox sh through rc.common in a
// small OpenWrt root; procd, nft, logger and uci are recording doubles.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { callsOf, Router } from './router.ts';

const INIT = '/etc/init.d/vpn-passthrough';
const TJS = '/usr/bin/tjs';
const BUNDLE = '/usr/share/vpn-passthrough/vpn-passthrough.js';
const TABLE_STATE = '/var/state/nft/vpn_passthrough';
const STOPPED = '/var/run/vpn-passthrough/stopped';

let router: Router;

function setup(options: { tjs?: boolean } = {}): Router {
  router = new Router(options);
  router.install(INIT, 'files/etc/init.d/vpn-passthrough', 0o755);

  return router;
}

test.after.each(() => router?.destroy());

test('start runs the daemon under tjs, respawned, logging to logd, with its reload triggers', () => {
  const r = setup().sh(`${INIT} start`);

  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(router.takeCalls(), [
    ['procd_open_service', 'vpn-passthrough', INIT],
    ['procd_open_instance'],
    ['procd_set_param', 'command', TJS, 'run', BUNDLE, 'daemon'],
    ['procd_set_param', 'respawn'],
    ['procd_set_param', 'stdout', '1'],
    ['procd_set_param', 'stderr', '1'],
    ['procd_close_instance'],
    // our config and fw4's zones; then netifd's networks of the lan and wan
    // zones of the real `uci show firewall` fixture (lan; wan and wan6).
    ['procd:trigger', 'config.change', 'vpn-passthrough', 'reload'],
    ['procd:trigger', 'config.change', 'firewall', 'reload'],
    ['uci', '-q', 'get', 'vpn-passthrough.globals.lan_zone'],
    ['uci', '-q', 'get', 'vpn-passthrough.globals.wan_zone'],
    ['uci', '-q', 'show', 'firewall'],
    ['procd:trigger', 'interface', 'lan', 'reload'],
    ['procd:trigger', 'interface', 'wan', 'reload'],
    ['procd:trigger', 'interface', 'wan6', 'reload'],
    ['procd_close_service'],
    ['procd:started', 'vpn-passthrough', `${TJS} run ${BUNDLE} daemon`],
  ]);
});

test('without tjs it says which package to install, logs it, and starts nothing', () => {
  const r = setup({ tjs: false }).sh(`${INIT} start`);
  const calls = router.takeCalls();

  assert.match(r.stderr, /vpn-passthrough: not started: the JavaScript runtime 'tjs' is missing; install the package 'txiki'/);
  assert.equal(callsOf(calls, 'logger'), [['logger', '-t', 'vpn-passthrough', '-p', 'daemon.err', r.stderr.replace('vpn-passthrough: ', '').trim()]]);
  assert.equal(callsOf(calls, 'procd_set_param'), []);
  assert.equal(callsOf(calls, 'procd:started'), []);
  assert.not.ok(router.exists('/var/run/procd/vpn-passthrough'));
});

test('stop removes our table and says so; with no table it stays quiet', () => {
  setup().sh(`${INIT} start`);
  assert.ok(router.exists(TABLE_STATE), 'the daemon applied its table at start');
  router.takeCalls();

  const r = router.sh(`${INIT} stop`);
  const calls = router.takeCalls();

  assert.is(r.status, 0);
  assert.is(r.stderr, "vpn-passthrough: stopped: removed table inet vpn_passthrough; VPN traffic now follows firewall4's own rules\n");
  assert.equal(callsOf(calls, 'nft'), [
    ['nft', 'list', 'table', 'inet', 'vpn_passthrough'],
    ['nft', 'delete', 'table', 'inet', 'vpn_passthrough'],
  ]);
  assert.equal(callsOf(calls, 'logger'), [['logger', '-t', 'vpn-passthrough', '-p', 'daemon.notice', r.stderr.slice('vpn-passthrough: '.length, -1)]]);
  assert.equal(callsOf(calls, 'procd_kill'), [['procd_kill', 'vpn-passthrough', '']]);
  assert.not.ok(router.exists(TABLE_STATE));
  assert.not.ok(router.exists('/var/run/procd/vpn-passthrough'), 'the daemon is stopped');
  // procd stops the daemon after stop_service: the mark tells it not to put the table back.
  assert.ok(router.exists(STOPPED), 'the daemon was told the table goes on purpose');

  router.sh(`rm ${STOPPED}`);
  const again = router.sh(`${INIT} stop`);
  const quiet = router.takeCalls();

  assert.is(again.stderr, '');
  assert.equal(callsOf(quiet, 'nft'), [['nft', 'list', 'table', 'inet', 'vpn_passthrough']]);
  assert.equal(callsOf(quiet, 'logger'), []);
  assert.not.ok(router.exists(STOPPED), 'no daemon, no table: nothing to tell');
});

test("stop also empties firewall4's chain of the VPN servers and removes the file fw4 includes", () => {
  const rules = '/var/run/vpn-passthrough/fw4/servers.nft';

  setup().sh(`${INIT} start`);
  router.write(rules, 'iifname { "eth1" } ct status dnat ip daddr 192.168.1.20 udp dport 500 accept\n');
  router.takeCalls();

  const r = router.sh(`${INIT} stop`);

  assert.is(r.status, 0, r.stderr);
  assert.equal(callsOf(router.takeCalls(), 'nft'), [
    ['nft', 'flush', 'chain', 'inet', 'fw4', 'vpn_passthrough_forward'],
    ['nft', 'list', 'table', 'inet', 'vpn_passthrough'],
    ['nft', 'delete', 'table', 'inet', 'vpn_passthrough'],
  ]);
  assert.not.ok(router.exists(rules));
});

test('reload re-applies through SIGHUP without restarting the daemon', () => {
  setup().sh(`${INIT} start`);
  router.takeCalls();

  const r = router.sh(`${INIT} reload`);

  assert.is(r.status, 0, r.stderr);
  assert.equal(router.takeCalls(), [['procd_send_signal', 'vpn-passthrough', '*', 'HUP']]);
  assert.ok(router.exists('/var/run/procd/vpn-passthrough'));
});

test('reload of a service that is not running starts it', () => {
  setup().sh(`${INIT} reload`);

  assert.equal(callsOf(router.takeCalls(), 'procd:started'), [['procd:started', 'vpn-passthrough', `${TJS} run ${BUNDLE} daemon`]]);
});

test('restart and a stop for a package upgrade keep the rules until the next daemon replaces them', () => {
  setup().sh(`${INIT} start`);
  router.takeCalls();

  router.sh(`${INIT} restart`);
  let calls = router.takeCalls();

  assert.equal(callsOf(calls, 'nft'), []);
  assert.equal(calls.filter((c) => c[0] === 'procd_kill' || c[0] === 'procd:started').map((c) => c[0]), ['procd_kill', 'procd:started']);
  assert.ok(router.exists(TABLE_STATE));

  router.sh(`${INIT} stop`, { env: { PKG_UPGRADE: '1' } });
  calls = router.takeCalls();
  assert.equal(callsOf(calls, 'nft'), []);
  assert.equal(callsOf(calls, 'procd_kill'), [['procd_kill', 'vpn-passthrough', '']]);
  assert.ok(router.exists(TABLE_STATE));
  assert.not.ok(router.exists(STOPPED), 'the next daemon keeps restoring the rules');
});

test('enable starts it after the firewall (fw4 is START=19); disable undoes it', () => {
  setup();
  const start = /^START=(\d+)/m.exec(router.read(INIT))![1]!;

  assert.ok(Number(start) > 19, `START=${start}`);
  assert.is(router.sh(`${INIT} enable`).status, 0);
  assert.is(router.sh(`readlink /etc/rc.d/S${start}vpn-passthrough`).stdout, '../init.d/vpn-passthrough\n');
  assert.is(router.sh(`${INIT} enabled`).status, 0);
  router.sh(`${INIT} disable`);
  assert.not.ok(router.exists(`/etc/rc.d/S${start}vpn-passthrough`));
  assert.is.not(router.sh(`${INIT} enabled`).status, 0);
});

test("the interface triggers follow the configured zones, with fw4's zone lists", () => {
  setup();
  router.write('/etc/uci-show/vpn-passthrough', "vpn-passthrough.globals=globals\nvpn-passthrough.globals.lan_zone='lan' 'guest'\nvpn-passthrough.globals.wan_zone='wan'\n");
  router.write('/etc/uci-show/firewall', `${router.read('/etc/uci-show/firewall')}firewall.@zone[2]=zone\nfirewall.@zone[2].name='guest'\nfirewall.@zone[2].network='guest' 'iot'\nfirewall.@zone[3]=zone\nfirewall.@zone[3].name='dmz'\nfirewall.@zone[3].network='dmz'\n`);
  router.sh(`${INIT} start`);

  const triggers = callsOf(router.takeCalls(), 'procd:trigger').filter((c) => c[1] === 'interface').map((c) => c[2]);

  assert.equal(triggers, ['guest', 'iot', 'lan', 'wan', 'wan6']);
});

test.run();
