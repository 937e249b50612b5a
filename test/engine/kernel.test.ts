// The engine against the real kernel, in a network namespace with a genuine
// fw4 ruleset: what `apply` loads, that fw4 reloads leave it alone, and that
// any failure leaves the previous table exactly as it was.

import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { runCli } from '../lib/cli.ts';
import { FW4_RULESETS, fw4Ruleset, OWN, SHARED } from '../lib/fixtures.ts';
import { Netns, sh } from '../lib/netns.ts';

const ns = new Netns('kernel');
const tmp = mkdtempSync(join(tmpdir(), 'vpnpt-kernel-'));
const confdir = join(tmp, 'config');
const statedir = join(tmp, 'state');
const flags = ['--confdir', confdir, '--statedir', statedir];

mkdirSync(confdir);
copyFileSync(join(SHARED, 'fw4/upstream-default.firewall.uci'), join(confdir, 'firewall'));
copyFileSync(join(OWN, 'network'), join(confdir, 'network'));
ns.exec(['ip', 'link', 'add', 'br-lan', 'type', 'bridge']);
ns.exec(['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer']);

const config = (text: string) => writeFileSync(join(confdir, 'vpn-passthrough'), text);
const shipped = readFileSync('files/etc/config/vpn-passthrough', 'utf8');
const cli = (...args: string[]) => runCli([...args, ...flags], { netns: ns.name });
const ourTable = () => ns.try(['nft', 'list', 'table', 'inet', 'vpn_passthrough']);
const fw4Table = () => ns.nft(['list', 'table', 'inet', 'fw4']);

function freshKernel(fw4: string): void {
  ns.nft(['flush', 'ruleset']);
  ns.nft(['-f', fw4Ruleset(fw4)]);
}

for (const fw4 of FW4_RULESETS) {
  test(`every golden ruleset loads beside fw4's ${fw4} and leaves fw4's table untouched`, () => {
    freshKernel(fw4);
    const before = fw4Table();

    for (const name of readdirSync(join(OWN, 'render')).sort()) {
      const r = ns.try(['nft', '-f', join(OWN, 'render', name, 'expect.nft')]);

      assert.is(r.status, 0, `${name}: ${r.stderr}`);
      assert.is(ourTable().status, name === 'master-off' ? 1 : 0, name);
    }
    assert.is(fw4Table(), before);
  });
}

test('apply loads exactly what render prints (the golden default ruleset)', () => {
  freshKernel('upstream-default');
  config(shipped);
  const rendered = cli('render');

  assert.is(rendered.status, 0, rendered.stderr);
  assert.is(rendered.stdout, readFileSync(join(OWN, 'render/default/expect.nft'), 'utf8'));

  const applied = cli('apply');

  assert.is(applied.status, 0, applied.stderr);
  assert.match(applied.stdout, /applied in [\d.]+ ms: inside br-lan -> outside eth1/);
  assert.match(applied.stdout, /pptp +passes .*conntrack helper attached/);
  assert.is(ourTable().status, 0);
});

test('applying the same rules again leaves the kernel alone (and the counters with it)', () => {
  const before = ourTable().stdout;
  const r = cli('apply');

  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /unchanged: the kernel already has these rules/);
  assert.is(ourTable().stdout, before);
});

test("a fw4 reload (which replaces only fw4's table) leaves ours loaded", () => {
  const before = ourTable().stdout;

  ns.nft(['-f', fw4Ruleset('upstream-default.pptp-loaded')]);
  assert.is(ourTable().stdout, before);
});

test('status --json: the shape LuCI and ubus read', () => {
  const r = cli('status', '--json');

  assert.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);

  assert.is(s.enabled, true);
  assert.is(s.applied, true);
  assert.equal(s.inside, { zones: ['lan'], devices: ['br-lan'] });
  assert.equal(s.outside, { zones: ['wan'], devices: ['eth1'] });
  assert.ok(['loaded', 'builtin'].includes(s.helper.pptp), s.helper.pptp);
  assert.equal(Object.keys(s.protocols), ['pptp', 'l2tp', 'ipsec']);
  assert.equal(s.protocols.ipsec, { enabled: true, family: 'any', hosts: [], passed: { packets: 0, bytes: 0 }, dropped: { packets: 0, bytes: 0 } });
  assert.is(s.last_apply.ok, true);
  assert.type(s.last_apply.duration_ms, 'number');
});

test('disable edits UCI as `uci commit` would and applies at once', () => {
  const r = cli('disable', 'ipsec');

  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /ipsec +dropped/);
  assert.match(readFileSync(join(confdir, 'vpn-passthrough'), 'utf8'), /config protocol 'ipsec'\n\toption enabled '0'\n/);
  assert.match(ns.nft(['list', 'chain', 'inet', 'vpn_passthrough', 'ipsec_traffic']), /goto ipsec_drop/);

  const again = cli('enable', 'ipsec');

  assert.is(again.status, 0, again.stderr);
  assert.not.match(ns.nft(['list', 'chain', 'inet', 'vpn_passthrough', 'ipsec_traffic']), /ipsec_drop/);
});

test('enable with a bad protocol name is a usage error', () => {
  const r = cli('enable', 'wireguard');

  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown protocol 'wireguard'/);
});

for (const [what, text, message] of [
  ['bad family', "config protocol 'pptp'\n\toption family 'ipv5'\n", /error: vpn-passthrough\.pptp\.family='ipv5': must be 'any', 'ipv4' or 'ipv6'/],
  ['unknown protocol section', "config protocol 'sstp'\n", /error: vpn-passthrough\.sstp='sstp': is not a protocol/],
  ['bad address', "config protocol 'l2tp'\n\tlist host '192.168.1.999'\n", /error: vpn-passthrough\.l2tp\.host='192\.168\.1\.999': is not an IPv4\/IPv6 address/],
  ['syntax error', "config protocol 'pptp'\n\toption family 'any\n", /error: vpn-passthrough='2': .*line 2: EOF with unterminated '/],
  ['unknown zone', "config globals 'globals'\n\tlist wan_zone 'internet'\n", /error: vpn-passthrough\.globals\.wan_zone='internet': is not a zone/],
] as const) {
  test(`broken input (${what}): exit 1, the field and value named, the previous table kept`, () => {
    const before = ourTable().stdout;

    config(text);
    const r = cli('apply');

    assert.is(r.status, 1);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /nothing applied; the previous rules stay in place/);
    assert.is(ourTable().stdout, before);
    assert.is(JSON.parse(cli('status', '--json').stdout).last_apply.ok, false);
    config(shipped);
  });
}

test('nft failing when it commits: exit 1, its message shown, the previous table kept', () => {
  const bin = join(tmp, 'bin');
  const before = ourTable().stdout;

  mkdirSync(bin, { recursive: true });
  // The real nft checks (-c); the committing call fails, as a kernel refusal would.
  writeFileSync(join(bin, 'nft'), '#!/bin/sh\nfor a; do [ "$a" = -c ] && exec nft.real "$@"; done\necho "Error: Could not process rule: Cannot allocate memory" >&2\nexit 1\n');
  chmodSync(join(bin, 'nft'), 0o755);
  writeFileSync(join(bin, 'nft.real'), '#!/bin/sh\nexec /usr/sbin/nft "$@"\n');
  chmodSync(join(bin, 'nft.real'), 0o755);

  config(shipped.replace("config protocol 'l2tp'\n\toption enabled '1'", "config protocol 'l2tp'\n\toption enabled '0'"));
  const r = runCli(['apply', ...flags], { netns: ns.name, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });

  assert.is(r.status, 1);
  assert.match(r.stderr, /error: nft failed to load the ruleset; the previous rules stay in place:\nError: Could not process rule: Cannot allocate memory \[nft_failed\]/);
  assert.is(ourTable().stdout, before);
  config(shipped);
});

test('a ruleset the kernel has not accepted before is checked with nft -c first; one it has is loaded at once', () => {
  const bin = join(tmp, 'bin-log');
  const log = join(tmp, 'nft-log.txt');
  const state = join(tmp, 'state-fresh');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const run = () => runCli(['apply', '--confdir', confdir, '--statedir', state], { netns: ns.name, env });
  // Loads and checks of ruleset files (not the helper probe, which reads stdin).
  const calls = () => readFileSync(log, 'utf8').split('\n').filter((l) => / -f \//.test(` ${l}`)).map((l) => (l.startsWith('-c') ? 'check' : 'load'));

  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'nft'), `#!/bin/sh\necho "$*" >> ${log}\nexec /usr/sbin/nft "$@"\n`);
  chmodSync(join(bin, 'nft'), 0o755);
  const a = shipped.replace("config protocol 'l2tp'\n\toption enabled '1'", "config protocol 'l2tp'\n\toption enabled '0'");

  for (const [text, expected] of [[a, ['check', 'load']], [shipped, ['check', 'load']], [a, ['load']], [shipped, ['load']]] as const) {
    rmSync(log, { force: true });
    config(text);
    const r = run();

    assert.is(r.status, 0, r.stderr);
    assert.equal(calls(), [...expected]);
  }
  rmSync(state, { recursive: true, force: true });
});

test('apply --check asks the kernel first (nft -c): refused there, nft never loads and the table stays', () => {
  const bin = join(tmp, 'bin-check');
  const log = join(tmp, 'nft-calls.log');
  const before = ourTable().stdout;

  mkdirSync(bin, { recursive: true });
  // Every call is logged; a checking call is refused, as the kernel would refuse a bad ruleset.
  writeFileSync(join(bin, 'nft'), `#!/bin/sh\necho "$*" >> ${log}\nfor a; do [ "$a" = -c ] && { echo "Error: Could not process rule: Operation not supported" >&2; exit 1; }; done\nexec /usr/sbin/nft "$@"\n`);
  chmodSync(join(bin, 'nft'), 0o755);
  rmSync(log, { force: true });

  config(shipped.replace("config protocol 'ipsec'\n\toption enabled '1'", "config protocol 'ipsec'\n\toption enabled '0'"));
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const r = runCli(['apply', '--check', ...flags], { netns: ns.name, env });

  assert.is(r.status, 1);
  assert.match(r.stderr, /error: nft rejected the ruleset; the previous rules stay in place:\nError: Could not process rule: Operation not supported \[nft_check_failed\]/);
  assert.not.match(readFileSync(log, 'utf8'), /^-f /m);
  assert.is(ourTable().stdout, before);

  const dry = runCli(['render', '--check', ...flags], { netns: ns.name, env });

  assert.is(dry.status, 1);
  assert.match(dry.stderr, /\[nft_check_failed\]/);
  config(shipped);
});

test('render --check: the real kernel accepts what would be loaded, nothing is loaded', () => {
  const before = ourTable().stdout;

  config(shipped.replace("config protocol 'pptp'\n\toption enabled '1'", "config protocol 'pptp'\n\toption enabled '0'"));
  const r = cli('render', '--check');

  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /goto pptp_drop/);
  assert.is(ourTable().stdout, before);
  config(shipped);
});

test('nft missing altogether: a clear error naming the package', () => {
  const bin = join(tmp, 'no-nft');

  mkdirSync(bin, { recursive: true });
  symlinkSync(sh(['sh', '-c', 'command -v ip']).trim(), join(bin, 'ip'));
  const r = runCli(['apply', ...flags], { netns: ns.name, env: { ...process.env, PATH: bin } });

  assert.is(r.status, 1);
  assert.match(r.stderr, /nft: command not found \(install the nftables package\)/);
});

test('the master switch off removes our table; on again brings it back', () => {
  config("config globals 'globals'\n\toption enabled '0'\n");
  const off = cli('apply');

  assert.is(off.status, 0, off.stderr);
  assert.match(off.stdout, /master switch off: table inet vpn_passthrough removed/);
  assert.is(ourTable().status, 1);
  assert.is(JSON.parse(cli('status', '--json').stdout).applied, false);

  config(shipped);
  assert.is(cli('apply').status, 0);
  assert.is(ourTable().status, 0);
});

test("with fw4 flow offloading on, disabling IPsec deletes its UDP conntrack entries (the flowtable would bypass our drop)", () => {
  const firewall = readFileSync(join(SHARED, 'fw4/upstream-default.firewall.uci'), 'utf8');
  const udpEntry = (port: number) => ns.exec(['conntrack', '-I', '-p', 'udp', '-s', '192.168.1.20', '-d', '10.0.2.2', '--sport', String(port), '--dport', String(port), '-t', '120']);

  writeFileSync(join(confdir, 'firewall'), firewall.replace('config defaults\n', "config defaults\n\toption flow_offloading '1'\n"));
  try {
    ns.exec(['conntrack', '-F']);
    udpEntry(4500);
    udpEntry(1701);
    config(shipped.replace("config protocol 'ipsec'\n\toption enabled '1'", "config protocol 'ipsec'\n\toption enabled '0'"));
    const r = cli('apply');

    assert.is(r.status, 0, r.stderr);
    const left = ns.exec(['conntrack', '-L']);

    assert.not.match(left, /dport=4500/);
    assert.match(left, /dport=1701/);

    // Without the conntrack tool: a warning that says what to install.
    const bin = join(tmp, 'no-conntrack');

    mkdirSync(bin, { recursive: true });
    for (const tool of ['ip', 'nft']) symlinkSync(sh(['sh', '-c', `command -v ${tool}`]).trim(), join(bin, tool));
    config(shipped.replace(/option enabled '1'/g, "option enabled '0'").replace("config globals 'globals'\n\toption enabled '0'", "config globals 'globals'\n\toption enabled '1'"));
    const w = runCli(['apply', ...flags], { netns: ns.name, env: { ...process.env, PATH: bin } });

    assert.is(w.status, 0, w.stderr);
    assert.match(w.stderr, /warning: firewall\.@defaults\[0\]\.flow_offloading='1': .*install the 'conntrack' package/);
  } finally {
    copyFileSync(join(SHARED, 'fw4/upstream-default.firewall.uci'), join(confdir, 'firewall'));
    config(shipped);
  }
});

// What another tool can do to our table, and how status words what the kernel lost.
const REMOVALS: [string, string[][], RegExp][] = [
  ['the table deleted', [['delete', 'table', 'inet', 'vpn_passthrough']], /^table inet vpn_passthrough is gone$/],
  ['a chain flushed', [['flush', 'chain', 'inet', 'vpn_passthrough', 'l2tp_traffic']], /^chain l2tp_traffic lost its rules$/],
  ['a set flushed', [['flush', 'set', 'inet', 'vpn_passthrough', 'inside']], /^set inside lost its elements$/],
  ['the table made dormant', [['add', 'table', 'inet', 'vpn_passthrough', '{ flags dormant; }']], /^table inet vpn_passthrough changed \(flags dormant\)$/],
  ['a rule added', [['insert', 'rule', 'inet', 'vpn_passthrough', 'l2tp_traffic', 'accept']], /^chain l2tp_traffic changed$/],
  [
    'every rule flushed, the helper object deleted',
    [['flush', 'table', 'inet', 'vpn_passthrough'], ['delete', 'ct', 'helper', 'inet', 'vpn_passthrough', 'pptp']],
    /^ct helper pptp is gone, chain pptp_helper lost its rules, chain pptp_helper_local lost its rules and \d+ more$/,
  ],
];

for (const [what, commands, lost] of REMOVALS) {
  test(`apply after ${what}: never "unchanged", the rules loaded again and the restore recorded`, () => {
    freshKernel('upstream-default');
    config(shipped.replace("config protocol 'l2tp'\n\toption enabled '1'", "config protocol 'l2tp'\n\toption enabled '0'"));
    assert.is(cli('apply').status, 0);
    const loaded = ourTable().stdout;
    const before = JSON.parse(cli('status', '--json').stdout).restores;

    for (const c of commands) ns.nft(c);
    const r = cli('apply');

    assert.is(r.status, 0, r.stderr);
    assert.not.match(r.stdout, /unchanged/);
    assert.is(ourTable().stdout, loaded);
    const after = JSON.parse(cli('status', '--json').stdout).restores;

    assert.is(after.count, before.count + 1);
    assert.is(after.recent[0].trigger, 'apply');
    assert.match(after.recent[0].lost, lost);
    assert.match(cli('status').stdout, new RegExp(`^restored: ${after.count} times? since boot; last .* UTC, noticed by apply: `, 'm'));

    // Now the kernel has it all again: unchanged.
    assert.match(cli('apply').stdout, /unchanged/);
    config(shipped);
  });
}

test('what traffic adds (esp_senders elements) and the counters are no loss: still unchanged', () => {
  freshKernel('upstream-default');
  config(shipped);
  assert.is(cli('apply').status, 0);
  ns.nft(['add', 'element', 'inet', 'vpn_passthrough', 'esp_senders', '{ 192.168.1.20 . 10.0.2.2 }']);
  ns.exec(['conntrack', '-F']);

  assert.match(cli('apply').stdout, /unchanged/);
  assert.match(ns.nft(['list', 'set', 'inet', 'vpn_passthrough', 'esp_senders']), /192\.168\.1\.20 \. 10\.0\.2\.2/, 'kept: nothing was reloaded');
});

test('a state dir from before (no listing recorded): the next apply loads once, then knows', () => {
  freshKernel('upstream-default');
  config(shipped);
  assert.is(cli('apply').status, 0);
  rmSync(join(statedir, 'listings'), { recursive: true, force: true });
  const restores = () => JSON.parse(cli('status', '--json').stdout).restores.count as number;
  const before = restores();

  assert.not.match(cli('apply').stdout, /unchanged/);
  assert.is(restores(), before, 'nothing was lost: no restore counted');
  assert.match(cli('apply').stdout, /unchanged/);
});

test.after(() => {
  ns.delete();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
