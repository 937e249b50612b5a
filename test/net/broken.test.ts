// Broken input never costs the router its rules. Beside a genuine fw4
// ruleset (both fixtures), with a good config applied (PPTP dropped), each
// broken input — an unknown protocol section, a bad family, a bad address,
// nft itself failing — gives exit status 1 and an error naming the field and
// the value, and leaves the previous table loaded: byte for byte in
// `nft list`, and in what the kernel does to real packets.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough, uci } from './lib/passthrough.ts';
import { assertReach, expectReach, reach, Sniffer } from './lib/probes.ts';
import { FW4, Topology } from './lib/topology.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
let sniffer: Sniffer;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
});
test.after(() => topo.destroy());

/** The last good config: PPTP dropped. Every broken one below would let PPTP through if applied. */
const GOOD = { pptp: { enabled: false } };
const PPTP_DROPPED = expectReach((p) => p !== 'pptp');

/** Asserts the kernel still has exactly `table`, and still drops PPTP. */
async function stillLoaded(table: string | null, what: string): Promise<void> {
  assert.is(vpn.table(), table, `${what}: the previous table is still loaded, unchanged`);
  topo.flushConntrack();
  assertReach(await reach(topo, sniffer, 'c1'), PPTP_DROPPED, `${what}: the kernel still drops PPTP`);
}

const CASES: [string, string, RegExp][] = [
  ['an unknown protocol section', `${uci({})}config protocol 'openvpn'\n\toption enabled '1'\n`, /^error: vpn-passthrough\.openvpn='openvpn': .+ \[unknown_protocol\]$/m],
  ['a bad family', uci({ pptp: { family: 'ipv5' } }), /^error: vpn-passthrough\.pptp\.family='ipv5': .+ \[invalid_family\]$/m],
  ['a bad address', uci({ pptp: { hosts: ['192.168.1.300'] } }), /^error: vpn-passthrough\.pptp\.host='192\.168\.1\.300': .+ \[invalid_host\]$/m],
];

for (const fw4 of FW4) {
  test(`[${fw4}] the good config is in force: PPTP dropped, the rest passes`, async () => {
    topo.loadFw4(fw4);
    vpn.mustApply(GOOD);
    await stillLoaded(vpn.table(), 'good config');
  });

  for (const [what, text, error] of CASES) {
    test(`[${fw4}] ${what}: exit 1, an error naming field and value, the previous table still loaded`, async () => {
      vpn.mustApply(GOOD);
      const before = vpn.table();
      const r = vpn.apply(text);

      assert.is(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, error);
      assert.match(r.stderr, /nothing applied; the previous rules stay in place/);
      await stillLoaded(before, what);
      assert.is(vpn.status().last_apply?.ok, false, 'status reports the failed apply');
    });
  }

  test(`[${fw4}] nft failing to commit: exit 1, nft's error shown, the previous table still loaded`, async () => {
    vpn.mustApply(GOOD);
    const before = vpn.table();
    const r = vpn.apply({}, vpn.failingNft());

    assert.is(r.status, 1, r.stdout + r.stderr);
    // The diagnostic carries nft's own complaint on the line after it.
    assert.match(r.stderr, /^error: nft failed to load the ruleset; the previous rules stay in place:\n.*Cannot allocate memory \(refused by the test's nft wrapper\) \[nft_failed\]$/m, r.stderr);
    await stillLoaded(before, 'nft failing');
  });

  test(`[${fw4}] enable with nft failing: exit 1, saved but not applied, the previous table still loaded`, async () => {
    vpn.mustApply(GOOD);
    const before = vpn.table();
    const r = vpn.cli(['enable', 'pptp'], vpn.failingNft());

    assert.is(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /saved, but not applied; the previous rules stay in place/);
    await stillLoaded(before, 'enable with nft failing');
  });
}

test.run();
