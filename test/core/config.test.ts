// Validation of /etc/config/vpn-passthrough: every error names the field
// (as uci does) and the value, and the defaults are what consumer routers ship.

import { readFileSync } from 'node:fs';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { defaults, readConfig } from '../../firmware/core/config.ts';
import { formatDiagnostic } from '../../firmware/core/diag.ts';
import { parseUci } from '../../firmware/core/uci/parse.ts';

const read = (text: string) => readConfig(parseUci(text));
const messages = (text: string) => read(text).diagnostics.map(formatDiagnostic);

test('an empty config is the defaults: everything passes, lan inside, wan outside', () => {
  const { config, diagnostics } = read('');

  assert.equal(config, defaults());
  assert.equal(diagnostics, []);
  assert.equal(config.lanZones, ['lan']);
  assert.ok(config.protocols.pptp.enabled && config.protocols.l2tp.enabled && config.protocols.ipsec.enabled);
});

test('the shipped config reads without a word', () => {
  assert.equal(read(readFileSync('files/etc/config/vpn-passthrough', 'utf8')).diagnostics, []);
});

test('options are read: switches, family, hosts normalized, zones as list or words', () => {
  const { config } = read(`
config globals 'globals'
	option enabled 'yes'
	option log 'on'
	option lan_zone 'lan guest'
	list wan_zone 'wan'
config protocol 'ipsec'
	option enabled 'false'
	option family 'ipv6'
	list host 'FD00:AB:CD::0020'
	list host '00-11-22-33-44-55'
`);

  assert.is(config.log, true);
  assert.equal(config.lanZones, ['lan', 'guest']);
  assert.equal(config.protocols.ipsec, { enabled: false, family: 'ipv6', hosts: [{ kind: 'ipv6', text: 'fd00:ab:cd::20' }, { kind: 'mac', text: '00:11:22:33:44:55' }] });
});

for (const [what, text, expected] of [
  ['bad family', "config protocol 'pptp'\n\toption family 'ipv5'\n", ["error: vpn-passthrough.pptp.family='ipv5': must be 'any', 'ipv4' or 'ipv6' [invalid_family]"]],
  ['bad switch', "config protocol 'l2tp'\n\toption enabled 'maybe'\n", ["error: vpn-passthrough.l2tp.enabled='maybe': must be '1' (on) or '0' (off) [invalid_bool]"]],
  ['a list where one value belongs', "config globals 'globals'\n\tlist log '1'\n", ["error: vpn-passthrough.globals.log='1': must be a single value (option), not a list [not_a_list]"]],
  ['bad host', "config protocol 'ipsec'\n\tlist host '192.168.1.300'\n\tlist host '10.0.0.1'\n", ["error: vpn-passthrough.ipsec.host='192.168.1.300': is not an IPv4/IPv6 address, CIDR prefix or MAC address [invalid_host]"]],
  ['unknown protocol section', "config protocol 'wireguard'\n\toption enabled '1'\n", ["error: vpn-passthrough.wireguard='wireguard': is not a protocol: name the section 'pptp', 'l2tp' or 'ipsec' [unknown_protocol]"]],
  ['anonymous protocol section', "config protocol\n\toption enabled '1'\n", ["error: vpn-passthrough.@protocol[0]='': is not a protocol: name the section 'pptp', 'l2tp' or 'ipsec' [unknown_protocol]"]],
  ['bad zone name', "config globals 'globals'\n\tlist lan_zone 'my-lan'\n", ["error: vpn-passthrough.globals.lan_zone='my-lan': is not a firewall zone name (letters, digits, _) [invalid_zone_name]"]],
  ['a zone both inside and outside', "config globals 'globals'\n\tlist lan_zone 'lan'\n\tlist wan_zone 'lan'\n", ["error: vpn-passthrough.globals.wan_zone='lan': is listed as both lan_zone and wan_zone [zone_inside_and_outside]"]],
  ['unknown option (warning)', "config protocol 'pptp'\n\toption enable '0'\n", ["warning: vpn-passthrough.pptp.enable='0': is not an option of a 'protocol' section; ignored [unknown_option]"]],
  ['unknown section type (warning)', "config rule 'x'\n", ["warning: vpn-passthrough.x='rule': is not a section type of vpn-passthrough ('globals', 'protocol', 'server'); ignored [unknown_section]"]],
  ['host bits set (warning)', "config protocol 'pptp'\n\tlist host '192.168.1.20/24'\n", ["warning: vpn-passthrough.pptp.host='192.168.1.20/24': has host bits set beyond its prefix; using 192.168.1.0/24 [host_bits_set]"]],
  ['host of the wrong family (warning)', "config protocol 'pptp'\n\toption family 'ipv6'\n\tlist host '192.168.1.20'\n", ["warning: vpn-passthrough.pptp.host='192.168.1.20': is an IPv4 host but family is 'ipv6': it never passes [host_family_mismatch]"]],
  ['a second globals section (warning)', "config globals 'globals'\nconfig globals 'other'\n", ["warning: vpn-passthrough.other: only one 'globals' section is read; this one is ignored [duplicate_globals]"]],
] as const) {
  test(`diagnostic: ${what}`, () => {
    assert.equal(messages(text), [...expected]);
  });
}

test('a bad value leaves the default in place, so nothing half-read is used', () => {
  const { config, diagnostics } = read("config protocol 'pptp'\n\toption enabled '0'\n\toption family 'ipv5'\n");

  assert.is(config.protocols.pptp.enabled, false);
  assert.is(config.protocols.pptp.family, 'any');
  assert.is(diagnostics.length, 1);
});

test.run();
