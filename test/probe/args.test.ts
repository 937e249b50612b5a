// The probe's arguments: the same checks for the command line and ubus,
// each refusal naming the argument and the value.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseProbeArgs, ProbeArgumentError } from '../../firmware/core/probe/args.ts';

test('servers: addresses are normalized, host names kept, brackets around IPv6 allowed', () => {
  assert.equal(parseProbeArgs({ server: ' 10.0.2.2 ' }), { server: '10.0.2.2', address: '10.0.2.2', protocols: ['pptp', 'l2tp', 'ipsec'], timeoutMs: 3000 });
  assert.is(parseProbeArgs({ server: '2001:DB8:0::2' }).address, '2001:db8::2');
  assert.is(parseProbeArgs({ server: '[2001:db8::2]' }).address, '2001:db8::2');
  assert.equal(parseProbeArgs({ server: 'vpn.example.com.' }).address, null);
  assert.equal(parseProbeArgs({ server: 'vpn-1' }).server, 'vpn-1');
});

test('protocol, host and timeout', () => {
  assert.equal(parseProbeArgs({ server: 'x.example', protocol: 'l2tp', host: 'AA-BB-CC-DD-EE-01', timeout: 1.5 }), { server: 'x.example', address: null, protocols: ['l2tp'], host: 'aa:bb:cc:dd:ee:01', timeoutMs: 1500 });
  assert.equal(parseProbeArgs({ server: 'x.example', protocol: '', host: '', timeout: '' }).protocols, ['pptp', 'l2tp', 'ipsec']);
  assert.is(parseProbeArgs({ server: 'x.example', host: 'fd00:AB:CD::20' }).host, 'fd00:ab:cd::20');
  assert.is(parseProbeArgs({ server: 'x.example', timeout: '10' }).timeoutMs, 10_000);
  // rpcd adds the caller's session to every call.
  assert.is(parseProbeArgs({ server: 'x.example', ubus_rpc_session: 'abc' }).server, 'x.example');
});

const refused: [Record<string, unknown>, string, RegExp][] = [
  [{}, 'server', /^server: undefined is not an address or host name/],
  [{ server: '' }, 'server', /^server: "" is not an address or host name/],
  [{ server: 'vpn example' }, 'server', /^server: "vpn example" is not an IPv4\/IPv6 address or host name$/],
  [{ server: '10.0.2.256' }, 'server', /^server: "10.0.2.256" is not an IPv4\/IPv6 address or host name$/],
  [{ server: '-vpn.example' }, 'server', /is not an IPv4\/IPv6 address or host name/],
  [{ server: 'http://vpn.example' }, 'server', /is not an IPv4\/IPv6 address or host name/],
  [{ server: '0.0.0.0' }, 'server', /^server: "0.0.0.0" cannot be a VPN server \(unspecified, multicast or broadcast address\)$/],
  [{ server: '224.0.0.1' }, 'server', /cannot be a VPN server/],
  [{ server: '255.255.255.255' }, 'server', /cannot be a VPN server/],
  [{ server: '::' }, 'server', /cannot be a VPN server/],
  [{ server: 'ff02::1' }, 'server', /cannot be a VPN server/],
  [{ server: 42 }, 'server', /^server: 42 is not an address or host name/],
  [{ server: 'x.example', protocol: 'sstp' }, 'protocol', /^protocol: "sstp" is not one of pptp, l2tp, ipsec$/],
  [{ server: 'x.example', protocol: 'PPTP' }, 'protocol', /^protocol: "PPTP" is not one of/],
  [{ server: 'x.example', host: '192.168.1.0/24' }, 'host', /^host: "192.168.1.0\/24" is not an inside host's IPv4\/IPv6 address or MAC address$/],
  [{ server: 'x.example', host: 'laptop' }, 'host', /^host: "laptop" is not an inside host's/],
  [{ server: 'x.example', timeout: 0 }, 'timeout', /^timeout: 0 is not a number of seconds from 1 to 10$/],
  [{ server: 'x.example', timeout: '11' }, 'timeout', /^timeout: "11" is not a number of seconds from 1 to 10$/],
  [{ server: 'x.example', timeout: '2s' }, 'timeout', /^timeout: "2s" is not a number/],
  [{ server: 'x.example', hosts: ['a'] }, 'hosts', /^hosts: unknown argument \(server, protocol, host, timeout\)$/],
];

for (const [args, argument, message] of refused) {
  test(`${JSON.stringify(args)} is refused naming ${argument}`, () => {
    try {
      parseProbeArgs(args);
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, ProbeArgumentError);
      assert.is((e as ProbeArgumentError).argument, argument);
      assert.match((e as Error).message, message);
    }
  });
}

test.run();
