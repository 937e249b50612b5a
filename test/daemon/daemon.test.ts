// The daemon as procd runs it, in a network namespace with a genuine fw4
// ruleset: its ubus object answered over a real unix socket, our client and
// codec on the caller's side, ubusd's part played as the recorded
// transcripts show (test/lib/ubusd-broker.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { nodePlatform } from '../../firmware/platform/node.ts';
import { connect, type UbusClient } from '../../firmware/ubus/client.ts';
import { UbusError } from '../../firmware/ubus/errors.ts';
import { toTable, type Table } from '../../firmware/ubus/value.ts';
import { COMMAND, runCli } from '../lib/cli.ts';
import { fw4Ruleset, OWN, SHARED } from '../lib/fixtures.ts';
import { Netns } from '../lib/netns.ts';
import { Broker } from '../lib/ubusd-broker.ts';

const ns = new Netns('daemon');
const tmp = mkdtempSync(join(tmpdir(), 'vpnpt-daemon-'));
const confdir = join(tmp, 'config');
const statedir = join(tmp, 'state');
const socket = join(tmp, 'ubus.sock');
const flags = ['--confdir', confdir, '--statedir', statedir];
const shipped = readFileSync('files/etc/config/vpn-passthrough', 'utf8');
const broker = new Broker(socket);
let daemon: ChildProcess;
let log = '';
let exit: Promise<number | null>;
let client: UbusClient;

mkdirSync(confdir);
copyFileSync(join(SHARED, 'fw4/upstream-default.firewall.uci'), join(confdir, 'firewall'));
copyFileSync(join(OWN, 'network'), join(confdir, 'network'));
writeFileSync(join(confdir, 'vpn-passthrough'), shipped);
ns.exec(['ip', 'link', 'add', 'br-lan', 'type', 'bridge']);
// The sessions' inside is what routes to the inside devices.
ns.exec(['ip', 'addr', 'add', '192.168.1.1/24', 'dev', 'br-lan']);
ns.exec(['ip', 'link', 'set', 'br-lan', 'up']);
ns.exec(['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer']);
ns.nft(['-f', fw4Ruleset('upstream-default')]);

const applied = () => broker.events.filter((e) => e.name === 'vpn-passthrough.applied');
const chain = (name: string) => ns.nft(['list', 'chain', 'inet', 'vpn_passthrough', name]);

test.before(async () => {
  await broker.start();
  daemon = spawn('ip', ['netns', 'exec', ns.name, ...COMMAND, 'daemon', '--socket', socket, '--poll', '1', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout!.on('data', (d) => (log += d));
  daemon.stderr!.on('data', (d) => (log += d));
  exit = new Promise((resolve) => daemon.on('exit', (code) => resolve(code)));
  await broker.until(() => applied().length > 0, 15_000, `the first apply (log: ${log})`);
  client = await connect({ connect: (path) => nodePlatform([]).connect(path), path: socket, timeout: 15_000 });
});

test('it publishes vpn-passthrough with the method signatures', () => {
  const obj = broker.object('vpn-passthrough');

  assert.ok(obj, log);
  const server = { name: 3, enabled: 7, protocol: 3, host: 3, host6: 3, allow: 1 };

  assert.equal(toTable(obj!.signature ?? []), { status: {}, sessions: {}, apply: {}, restore: { trigger: 3 }, probe: { server: 3, protocol: 3, host: 3, timeout: 5 }, set: { protocol: 3, enabled: 7, family: 3, hosts: 1 }, set_server: server, delete_server: { name: 3 }, check_server: server });
});

test('it applied at start and said so on the bus and in its log', () => {
  assert.is(applied()[0]!.data.ok, true);
  assert.match(log, /daemon starting/);
  assert.match(log, /applied in [\d.]+ ms: inside br-lan -> outside eth1 \[start\]/);
  assert.match(chain('classify'), /vmap/);
});

test('status over ubus is `vpn-passthrough status --json`', async () => {
  const viaUbus = await client.call('vpn-passthrough', 'status');
  const viaCli = JSON.parse(runCli(['status', '--json', ...flags], { netns: ns.name }).stdout);

  assert.equal(viaUbus, viaCli);
});

test('set writes UCI, applies at once, returns the new status and sends an event', async () => {
  const before = applied().length;
  const status = (await client.call('vpn-passthrough', 'set', { protocol: 'l2tp', enabled: false, family: 'ipv4' })) as { protocols: Record<string, { enabled: boolean; family: string }> };

  assert.equal(status.protocols.l2tp, { ...status.protocols.l2tp, enabled: false, family: 'ipv4' });
  assert.match(readFileSync(join(confdir, 'vpn-passthrough'), 'utf8'), /config protocol 'l2tp'\n\toption enabled '0'\n\toption family 'ipv4'\n/);
  assert.match(chain('l2tp_traffic'), /goto l2tp_drop/);
  assert.is(applied().length, before + 1);
});

const invalid: [Table, RegExp][] = [
  [{ protocol: 'sstp', enabled: true }, /^protocol: "sstp" is not one of pptp, l2tp, ipsec$/],
  [{ protocol: 'pptp', family: 'ipv5' }, /^family: "ipv5" is not one of any, ipv4, ipv6$/],
  [{ protocol: 'pptp', hosts: ['192.168.1.999'] }, /^hosts: "192.168.1.999" is not an IPv4\/IPv6 address/],
  [{ protocol: 'pptp', enabled: 'yes' }, /^enabled: "yes" is not a boolean$/],
  [{ protocol: 'pptp' }, /^nothing to set/],
  [{ protocol: 'pptp', enable: true }, /^enable: unknown argument/],
];

for (const [args, message] of invalid) {
  test(`set ${JSON.stringify(args)}: INVALID_ARGUMENT naming the field and value, nothing changed`, async () => {
    const file = readFileSync(join(confdir, 'vpn-passthrough'), 'utf8');

    try {
      await client.call('vpn-passthrough', 'set', { ...args });
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, UbusError);
      assert.is((e as UbusError).code, 'INVALID_ARGUMENT');
      assert.match(String((e as UbusError & { data: { error: string } }).data.error), message);
    }
    assert.is(readFileSync(join(confdir, 'vpn-passthrough'), 'utf8'), file);
  });
}

/** The command, run without blocking this process (the broker lives here). */
function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, ...COMMAND, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';

    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

test('`vpn-passthrough enable` goes through the running daemon', async () => {
  const r = await runAsync(['enable', 'l2tp', '--socket', socket, ...flags]);

  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /l2tp enabled by the service: it now passes/, r.stdout + r.stderr);
  assert.not.match(chain('l2tp_traffic'), /drop/);
});

test('apply re-applies from UCI and returns the status', async () => {
  const status = (await client.call('vpn-passthrough', 'apply')) as { applied: boolean; last_apply: { ok: boolean } };

  assert.is(status.applied, true);
  assert.is(status.last_apply.ok, true);
});

test('restore over ubus: with the rules all there, nothing to do', async () => {
  const r = (await client.call('vpn-passthrough', 'restore', { trigger: 'test' })) as { restored: boolean; lost?: string };

  assert.is(r.restored, false);
  assert.is(r.lost, undefined);
});

test('the watchdog: another tool deletes our table, the daemon puts it back, logs and counts it', async () => {
  const table = ns.nft(['-s', 'list', 'table', 'inet', 'vpn_passthrough']);
  const restores = () => JSON.parse(runCli(['status', '--json', ...flags], { netns: ns.name }).stdout).restores as { count: number; recent: { trigger: string; lost: string; event?: string }[] };
  const before = restores().count;

  ns.nft(['delete', 'table', 'inet', 'vpn_passthrough']);
  await broker.until(() => ns.try(['nft', '-s', 'list', 'table', 'inet', 'vpn_passthrough']).stdout === table || undefined, 5000, `the table back (log: ${log})`);
  await broker.until(() => /restored our rules/.test(log) || undefined, 5000, 'the log line');
  assert.match(log, /restored our rules: the kernel had lost them \(table inet vpn_passthrough is gone\) \[watchdog: delete table inet vpn_passthrough, and \d+ more changes \(by process \d+ \(nft\)\)\]/);
  const after = restores();

  assert.is(after.count, before + 1);
  assert.equal([after.recent[0]!.trigger, after.recent[0]!.lost], ['watchdog', 'table inet vpn_passthrough is gone']);
  assert.match(after.recent[0]!.event!, /^delete table inet vpn_passthrough/);
  assert.is(((await client.call('vpn-passthrough', 'status')) as { restores: { count: number } }).restores.count, before + 1, 'status over ubus says so too');
});

test('`vpn-passthrough restore` asks the service; without one it does nothing and says so', async () => {
  const r = await runAsync(['restore', '--socket', socket, ...flags]);

  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /the kernel has the rules: nothing to restore/);

  const none = runCli(['restore', '--socket', join(tmp, 'no-ubus.sock'), ...flags], { netns: ns.name });

  assert.is(none.status, 0, none.stderr);
  assert.match(none.stdout, /the service is not running, nothing to restore/);
});

test('sessions answers with a report', async () => {
  const report = (await client.call('vpn-passthrough', 'sessions')) as { sessions: unknown[]; warnings: unknown[] };

  assert.equal(report.sessions, []);
  assert.ok(Array.isArray(report.warnings));
});

test('while someone asks for sessions, appearing and ending ones are sent as events', async () => {
  const events = () => broker.events.filter((e) => e.name === 'vpn-passthrough.session');
  const entry = ['-p', 'udp', '-s', '192.168.1.20', '-d', '10.0.2.2', '--sport', '4500', '--dport', '4500'];

  await client.call('vpn-passthrough', 'sessions');
  ns.exec(['conntrack', '-I', ...entry, '--src-nat', '10.0.2.15', '-t', '120']);
  const appeared = await broker.until(() => events().find((e) => e.data.action === 'appeared'), 10_000, 'an appeared event');

  assert.equal([appeared.data.protocol, appeared.data.transport, appeared.data.inside, appeared.data.outside], ['ipsec', 'nat-t', '192.168.1.20', '10.0.2.2']);
  ns.exec(['conntrack', '-D', ...entry]);
  const ended = await broker.until(() => events().find((e) => e.data.action === 'ended'), 10_000, 'an ended event');

  assert.is(ended.data.inside, '192.168.1.20');
});

test("one-shot commands take the zones' devices from netifd over ubus when it is there", async () => {
  // netifd's reply, as `ubus call network.interface dump` gives it: a PPPoE wan's live device.
  const netifd = await connect({ connect: (path) => nodePlatform([]).connect(path), path: socket });

  await netifd.publish('network.interface', { dump: { handler: () => ({ interface: [{ interface: 'wan', up: true, device: 'eth1', l3_device: 'pppoe-wan' }] }) } });
  try {
    const r = await runAsync(['render', '--socket', socket, ...flags]);

    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /set outside \{ type ifname; elements = \{ "eth1", "pppoe-wan" \}; \}/);
  } finally {
    netifd.close();
  }
});

test('SIGHUP re-applies (the init script reload)', async () => {
  const before = applied().length;

  writeFileSync(join(confdir, 'vpn-passthrough'), shipped.replace("config protocol 'ipsec'\n\toption enabled '1'", "config protocol 'ipsec'\n\toption enabled '0'"));
  daemon.kill('SIGHUP');
  await broker.until(() => applied().length > before, 10_000, 'the SIGHUP apply');
  assert.match(chain('ipsec_traffic'), /goto ipsec_drop/);
  assert.match(log, /\[SIGHUP\]/);
});

test('when ubusd restarts, the daemon publishes its object again', async () => {
  await broker.stop();
  await broker.start();
  await broker.until(() => broker.object('vpn-passthrough'), 15_000, 're-publication');
  assert.match(log, /lost ubus/);
});

test('SIGTERM: a clean exit, the rules left in place for the init script', async () => {
  daemon.kill('SIGTERM');
  assert.is(await exit, 0);
  assert.match(log, /SIGTERM: stopping/);
  assert.match(chain('classify'), /vmap/);
});

test.after(async () => {
  client?.close();
  daemon?.kill('SIGKILL');
  await broker.stop();
  ns.delete();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
