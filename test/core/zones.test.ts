// fw4 zones → devices, through /etc/config/network and netifd's dump, with
// the genuine fw4 firewall configs from ../shared/fixtures.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { defaults } from '../../firmware/core/config.ts';
import { formatDiagnostic } from '../../firmware/core/diag.ts';
import { parseUci } from '../../firmware/core/uci/parse.ts';
import { firewallZones, mergeInterfaces, networkDevices, resolveZones, ubusDevices } from '../../firmware/core/zones.ts';
import { own, shared } from '../lib/fixtures.ts';

const network = (text: string) => networkDevices(parseUci(text));

for (const fixture of ['upstream-default', 'minimal']) {
  test(`${fixture}: lan → br-lan, wan (+ wan6) → eth1`, () => {
    const zones = firewallZones(parseUci(shared(`fw4/${fixture}.firewall.uci`)));
    const { devices, diagnostics } = resolveZones(defaults(), zones, networkDevices(parseUci(own('network'))));

    assert.equal(devices, { inside: ['br-lan'], outside: ['eth1'] });
    assert.equal(diagnostics, []);
  });
}

test('interface devices: plain, alias, PPPoE, legacy bridge, wireguard, old ifname', () => {
  const devices = network(`
config interface 'lan'
	option type 'bridge'
	option ifname 'eth0.1'
config interface 'wan'
	option proto 'pppoe'
	option device 'eth0.2'
config interface 'wan6'
	option device '@wan'
config interface 'vpn'
	option proto 'wireguard'
config interface 'guest'
	option ifname 'eth0.3'
`);

  assert.equal(Object.fromEntries(devices), { lan: ['br-lan'], wan: ['pppoe-wan'], wan6: ['pppoe-wan'], vpn: ['vpn'], guest: ['eth0.3'] });
});

test("netifd's dump: l3_device first (PPPoE's live device), then device", () => {
  const dump = { interface: [{ interface: 'wan', device: 'eth0.2', l3_device: 'pppoe-wan', up: true }, { interface: 'lan', device: 'br-lan' }, { interface: 'down' }] };

  assert.equal(Object.fromEntries(ubusDevices(dump)), { wan: ['pppoe-wan'], lan: ['br-lan'] });
  assert.equal(ubusDevices(null).size, 0);
  assert.equal(Object.fromEntries(mergeInterfaces(new Map([['wan', ['eth1']]]), new Map([['wan', ['eth1', 'pppoe-wan']]]))), { wan: ['eth1', 'pppoe-wan'] });
});

test('zone devices: raw device lists, fw4 wildcards, invalid names', () => {
  const zones = firewallZones(parseUci("config zone\n\toption name 'lan'\n\tlist device 'tun+'\n\tlist device 'br-lan'\nconfig zone\n\toption name 'wan'\n\tlist device 'a-very-long-device-name'\n\toption network 'wan'\n"));
  const { devices, diagnostics } = resolveZones(defaults(), zones, new Map([['wan', ['eth1']]]));

  assert.equal(devices, { inside: ['br-lan', 'tun*'], outside: ['eth1'] });
  assert.equal(diagnostics.map(formatDiagnostic), ["warning: vpn-passthrough.globals.wan_zone='wan': zone 'wan' has device 'a-very-long-device-name', which nftables cannot match; ignored [invalid_device]"]);
});

test('an unknown zone is an error naming the option and listing the zones there are', () => {
  const config = { ...defaults(), wanZones: ['internet'] };
  const zones = firewallZones(parseUci(shared('fw4/minimal.firewall.uci')));

  assert.equal(resolveZones(config, zones, new Map()).diagnostics.map(formatDiagnostic).filter((l) => l.startsWith('error')), [
    "error: vpn-passthrough.globals.wan_zone='internet': is not a zone in /etc/config/firewall (zones: lan, wan) [unknown_zone]",
  ]);
});

test('a zone whose networks have no device yet is a warning, not silence', () => {
  const zones = firewallZones(parseUci(shared('fw4/minimal.firewall.uci')));
  const { devices, diagnostics } = resolveZones(defaults(), zones, new Map([['lan', ['br-lan']]]));

  assert.equal(devices.outside, []);
  assert.equal(diagnostics.map((d) => d.code), ['unknown_network', 'unknown_network', 'zone_without_devices']);
});

test.run();
