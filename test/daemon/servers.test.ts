// The daemon's server methods over a real unix socket (ubusd played as the
// recorded transcripts show), in a namespace where firewall4's genuine
// ruleset carries our include files: set_server checks first, writes,
// applies (our table and fw4's chain in one transaction) and returns the
// status; check_server answers with the diagnostics; delete_server removes.

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Diagnostic } from '../../firmware/core/diag.ts';
import type { Status } from '../../firmware/core/model.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { connect, type UbusClient } from '../../firmware/ubus/client.ts';
import { UbusError } from '../../firmware/ubus/errors.ts';
import type { Table } from '../../firmware/ubus/value.ts';
import { COMMAND, runCli } from '../lib/cli.ts';
import { SHARED } from '../lib/fixtures.ts';
import { Netns } from '../lib/netns.ts';
import { Broker } from '../lib/ubusd-broker.ts';
import { fw4Hooked, NETWORK } from '../net/lib/servers.ts';

const ns = new Netns('servers');
const tmp = mkdtempSync(join(tmpdir(), 'vpnpt-servers-'));
const confdir = join(tmp, 'config');
const statedir = join(tmp, 'state');
const socket = join(tmp, 'ubus.sock');
const flags = ['--confdir', confdir, '--statedir', statedir];
const broker = new Broker(socket);
const file = () => readFileSync(join(confdir, 'vpn-passthrough'), 'utf8');
let daemon: ChildProcess;
let log = '';
let client: UbusClient;

mkdirSync(confdir);
copyFileSync(join(SHARED, 'fw4/upstream-default.firewall.uci'), join(confdir, 'firewall'));
writeFileSync(join(confdir, 'network'), NETWORK);
writeFileSync(join(confdir, 'vpn-passthrough'), readFileSync('files/etc/config/vpn-passthrough', 'utf8'));
ns.exec(['ip', 'link', 'add', 'br-lan', 'type', 'bridge']);
ns.exec(['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer']);
ns.nft(['-f', '-'], fw4Hooked('upstream-default', tmp, statedir).replace(/^table inet fw4\ndelete table inet fw4\n/, ''));

const applied = () => broker.events.filter((e) => e.name === 'vpn-passthrough.applied');
const fw4Chain = () => ns.nft(['list', 'chain', 'inet', 'fw4', 'vpn_passthrough_forward']);

test.before(async () => {
  await broker.start();
  daemon = spawn('ip', ['netns', 'exec', ns.name, ...COMMAND, 'daemon', '--socket', socket, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout!.on('data', (d) => (log += d));
  daemon.stderr!.on('data', (d) => (log += d));
  await broker.until(() => applied().length > 0, 15_000, `the first apply (log: ${log})`);
  client = await connect({ connect: (path) => nodePlatform([]).connect(path), path: socket, timeout: 15_000 });
});

async function refused(method: string, args: Table): Promise<{ code: string; error: string; diagnostics?: Diagnostic[] }> {
  try {
    await client.call('vpn-passthrough', method, args);
  } catch (e) {
    assert.instance(e, UbusError);
    const data = (e as UbusError).data as { error: string; diagnostics?: Diagnostic[] };

    return { code: (e as UbusError).code, ...data };
  }

  throw new Error(`${method} accepted ${JSON.stringify(args)}`);
}

test('check_server: the diagnostics a change would give, nothing written', async () => {
  const before = file();
  const bad = (await client.call('vpn-passthrough', 'check_server', { name: 'office', protocol: 'ipsec', host: '10.0.2.50' })) as unknown as { ok: boolean; diagnostics: Diagnostic[] };

  assert.is(bad.ok, false);
  assert.equal(bad.diagnostics.map((d) => [d.code, d.field, d.value]), [['server_host_not_inside', 'vpn-passthrough.office.host', '10.0.2.50']]);
  assert.equal(await client.call('vpn-passthrough', 'check_server', { name: 'office', protocol: 'ipsec', host: '192.168.1.20' }), { ok: true, diagnostics: [] });
  assert.is(file(), before);
});

test('set_server creates the section, applies (fw4\'s chain too) and returns the status with the server', async () => {
  const before = applied().length;
  const status = (await client.call('vpn-passthrough', 'set_server', { name: 'office', protocol: 'ipsec', host: '192.168.1.20', host6: 'fd00:ab:cd::20', allow: ['198.51.100.0/24', '2001:db8:100::/48'] })) as unknown as Status;

  assert.match(file(), /\nconfig server 'office'\n\toption protocol 'ipsec'\n\toption host '192\.168\.1\.20'\n\toption host6 'fd00:ab:cd::20'\n\tlist allow '198\.51\.100\.0\/24'\n\tlist allow '2001:db8:100::\/48'\n/);
  assert.equal(status.servers.map((s) => [s.name, s.protocol, s.host, s.host6, s.allow, s.forwards, s.active]), [['office', 'ipsec', '192.168.1.20', 'fd00:ab:cd::20', ['198.51.100.0/24', '2001:db8:100::/48'], 'UDP 500 + UDP 4500 + ESP', true]]);
  assert.equal(status.diagnostics.filter((d) => d.code.startsWith('server') || d.code.startsWith('fw4')), []);
  assert.is(applied().length, before + 1);
  assert.match(fw4Chain(), /ct status dnat ip daddr 192\.168\.1\.20 ip saddr 198\.51\.100\.0\/24/);
  assert.match(fw4Chain(), /ip6 daddr fd00:ab:cd::20 ip6 saddr 2001:db8:100::\/48/);
  assert.ok(existsSync(join(statedir, 'fw4', 'servers.nft')));
});

test('set_server changes what it is given; "" and [] remove an option', async () => {
  const status = (await client.call('vpn-passthrough', 'set_server', { name: 'office', host6: '', allow: [], enabled: false })) as unknown as Status;

  assert.equal(status.servers.map((s) => [s.host, s.host6, s.allow, s.enabled, s.active]), [['192.168.1.20', null, [], false, false]]);
  assert.match(file(), /config server 'office'\n\toption protocol 'ipsec'\n\toption host '192\.168\.1\.20'\n\toption enabled '0'\n/);
  assert.not.match(fw4Chain(), /accept/);
  assert.not.ok(existsSync(join(statedir, 'fw4', 'servers.nft')));
  await client.call('vpn-passthrough', 'set_server', { name: 'office', enabled: true });
});

const invalid: [string, Table, RegExp][] = [
  ['set_server', { name: 'bad name' }, /^name: "bad name" is not a section name/],
  ['set_server', { name: 'x', protocol: 'sstp', host: '192.168.1.21' }, /^error: vpn-passthrough\.x\.protocol='sstp': must be 'pptp', 'l2tp' \(L2TP\/IPsec\) or 'ipsec' \[invalid_server_protocol\]$/],
  ['set_server', { name: 'x', protocol: 'pptp', host: 42 }, /^host: 42 is not a string$/],
  ['set_server', { name: 'x', protocol: 'pptp', host: '192.168.1.21', allow: ['aa:bb:cc:dd:ee:ff'] }, /^error: vpn-passthrough\.x\.allow='aa:bb:cc:dd:ee:ff': is not an outside IPv4\/IPv6 address or prefix/],
  ['set_server', { name: 'x', port: 1723 }, /^port: unknown argument/],
  ['set_server', { name: 'x', protocol: 'pptp' }, /vpn-passthrough\.x\.host: needs the inside server's address/],
  ['set_server', { name: 'x', protocol: 'pptp', host: '10.9.9.9' }, /error: vpn-passthrough\.x\.host='10\.9\.9\.9': is not in an inside network \(192\.168\.1\.0\/24\)/],
  ['set_server', { name: 'x', protocol: 'l2tp', host: '192.168.1.21' }, /error: vpn-passthrough\.x\.protocol='l2tp': forwards the IPsec set .* like server 'office'/],
  ['set_server', { name: 'pptp', protocol: 'pptp', host: '192.168.1.21' }, /vpn-passthrough\.pptp='pptp': is the name of the 'protocol' section/],
  ['delete_server', { name: 'nothere' }, /vpn-passthrough\.nothere='nothere': is not a server section/],
];

for (const [method, args, message] of invalid) {
  test(`${method} ${JSON.stringify(args)}: refused naming the field, nothing written`, async () => {
    const before = file();
    const r = await refused(method, args);

    assert.is(r.code, method === 'delete_server' ? 'NOT_FOUND' : 'INVALID_ARGUMENT');
    assert.match(r.error, message);
    assert.is(file(), before);
  });
}

test('status over ubus and the CLI list the same server, with its counters', async () => {
  const viaUbus = (await client.call('vpn-passthrough', 'status')) as unknown as Status;
  const viaCli = JSON.parse(runCli(['status', '--json', ...flags], { netns: ns.name }).stdout) as Status;

  assert.equal(viaUbus.servers, viaCli.servers);
  assert.equal(viaUbus.servers[0]!.connections, { packets: 0, bytes: 0 });
  const text = runCli(['status', ...flags], { netns: ns.name }).stdout;

  assert.match(text, /server +protocol +forwards +to +from +state +connections +refused/);
  assert.match(text, /office +ipsec +UDP 500 \+ UDP 4500 \+ ESP +192\.168\.1\.20 +any +on +0 +-/);
});

test('delete_server removes the section and its rules', async () => {
  const status = (await client.call('vpn-passthrough', 'delete_server', { name: 'office' })) as unknown as Status;

  assert.equal(status.servers, []);
  assert.not.match(file(), /config server/);
  assert.not.match(fw4Chain(), /accept/);
  assert.not.match(ns.nft(['list', 'table', 'inet', 'vpn_passthrough']), /server_dnat/);
});

test.after(async () => {
  client?.close();
  daemon?.kill('SIGKILL');
  await broker.stop();
  ns.delete();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
