// The rpcd ACL grants exactly what the page uses, and the menu entry points
// at the page. What the page uses is observed, not read from its text: the
// view runs through load, poll and every button (luci.ts records each ubus
// call with its phase). Calls made while showing the page are reads, calls
// only a user action makes are writes; the uci configs are the form.Map's
// and those passed to uci.*. network.getHostHints() (the known hosts the
// page offers) is rpcd's luci-rpc getHostHints: real rpcd refuses it to a
// user with only this group and luci-base (it belongs to luci-base's
// "luci-base-network-status"), so the group grants it. The form's own uci
// calls (get, changes, set, apply...) are luci-base's.

import { existsSync, readFileSync } from 'node:fs';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Luci, runView, VIEW, type El } from './luci.ts';

const ACL_FILE = 'files/usr/share/rpcd/acl.d/luci-app-vpn-passthrough.json';
const MENU_FILE = 'files/usr/share/luci/menu.d/luci-app-vpn-passthrough.json';

interface Grants {
  ubus?: Record<string, string[]>;
  uci?: string[];
  [other: string]: unknown;
}

const acl = JSON.parse(readFileSync(ACL_FILE, 'utf8')) as Record<string, { description: string; read?: Grants; write?: Grants }>;
const menu = JSON.parse(readFileSync(MENU_FILE, 'utf8')) as Record<string, { title: string; order?: number; action: { type: string; path: string }; depends: { acl: string[]; uci: Record<string, boolean> } }>;

/** Runs the page through everything it can do; returns what it touched. */
async function observe() {
  const status = {
    version: '1', enabled: true, applied: true, log: false, inside: { zones: [], devices: [] }, outside: { zones: [], devices: [] }, helper: { pptp: 'loaded' },
    protocols: Object.fromEntries(['pptp', 'l2tp', 'ipsec'].map((p, i) => [p, { enabled: i !== 1, family: 'any', hosts: [], passed: { packets: 0, bytes: 0 }, dropped: { packets: 0, bytes: 0 } }])),
    servers: [{ name: 'office', enabled: true, protocol: 'ipsec', host: '192.168.1.20', host6: null, allow: [], forwards: 'UDP 500 + UDP 4500 + ESP', active: true, connections: { packets: 0, bytes: 0 }, refused: { packets: 0, bytes: 0 } }],
    last_apply: null, diagnostics: [],
  };
  const luci = new Luci((_object, method) => (method === 'sessions' ? { sessions: [], warnings: [], skipped: 0 } : status));
  const { view, node } = await runView(readFileSync(VIEW, 'utf8'), luci);

  // What a user types into "Test a VPN server" before pressing Test.
  (view.probeInputs as unknown as Record<string, { value: string }>).server!.value = '203.0.113.7';
  luci.phase = 'poll';
  for (const p of luci.polls) await p.fn();

  luci.phase = 'action';
  for (const button of node.find((e: El) => e.tag === 'button')) {
    await (button.attrs.click as () => Promise<void>)();
    // A button may open a dialog (the servers' editor): its buttons are user actions too.
    const modal = luci.modal;

    for (const inner of modal?.find((e: El) => e.tag === 'button') ?? []) await (inner.attrs.click as () => Promise<void>)();
  }

  const methods = (phases: string[], calls = luci.calls) => [...new Set(calls.filter((c) => phases.includes(c.phase)).map((c) => `${c.object}/${c.method}`))].sort();
  const reads = methods(['load', 'poll']);

  return {
    luci,
    reads,
    writes: methods(['action']).filter((m) => !reads.includes(m)),
    declared: [...new Set(luci.declared.map((d) => `${d.object}/${d.method}`))].sort(),
    viaLuci: methods(['load', 'poll', 'action'], luci.calls.filter((c) => c.via)),
    configs: [...new Set([...luci.maps.map((m) => m.config), ...luci.uciCalls.map((c) => c.config)])].sort(),
  };
}

const granted = (g: Grants | undefined) => Object.entries(g?.ubus ?? {}).flatMap(([object, methods]) => methods.map((m) => `${object}/${m}`)).sort();

test('the ACL is one group, named as the menu requires, with read and write only', () => {
  assert.equal(Object.keys(acl), ['luci-app-vpn-passthrough']);
  const group = acl['luci-app-vpn-passthrough']!;

  assert.equal(Object.keys(group).sort(), ['description', 'read', 'write']);
  for (const perm of ['read', 'write'] as const) assert.equal(Object.keys(group[perm]!).sort(), ['ubus', 'uci'], `${perm} grants ubus and uci only`);
});

test('ubus: the ACL reads exactly what the page shows and writes exactly what its buttons do', async () => {
  const { reads, writes, declared, viaLuci } = await observe();
  const group = acl['luci-app-vpn-passthrough']!;

  assert.equal(reads, ['luci-rpc/getHostHints', 'vpn-passthrough/sessions', 'vpn-passthrough/status']);
  assert.equal(viaLuci, ['luci-rpc/getHostHints'], 'the known hosts, through network.js');
  // probe is a write: it makes the router send packets to a host the user
  // names, which a read-only account must not be able to do.
  assert.equal(writes, ['vpn-passthrough/apply', 'vpn-passthrough/check_server', 'vpn-passthrough/delete_server', 'vpn-passthrough/probe', 'vpn-passthrough/set', 'vpn-passthrough/set_server']);
  assert.equal(declared, [...reads, ...writes].filter((m) => !viaLuci.includes(m)).sort(), 'every declared ubus method is used');
  assert.equal(granted(group.read), reads, 'read grants = what the page calls to show itself');
  assert.equal(granted(group.write), writes, 'write grants = what only a user action calls');
});

test('uci: the ACL grants the one config the page reads and writes', async () => {
  const { configs } = await observe();
  const group = acl['luci-app-vpn-passthrough']!;

  assert.equal(configs, ['vpn-passthrough']);
  assert.equal(group.read!.uci, configs);
  assert.equal(group.write!.uci, configs);
});

test('the menu entry sits under Network, opens this view and depends on the ACL and the config', () => {
  assert.equal(Object.keys(menu), ['admin/network/vpn-passthrough']);
  const entry = menu['admin/network/vpn-passthrough']!;

  assert.is(entry.title, 'VPN Passthrough');
  assert.is(entry.action.type, 'view');
  assert.is(`files/www/luci-static/resources/view/${entry.action.path}.js`, VIEW);
  assert.ok(existsSync(VIEW));
  assert.equal(entry.depends.acl, Object.keys(acl));
  assert.equal(entry.depends.uci, { 'vpn-passthrough': true });
});

test.run();
