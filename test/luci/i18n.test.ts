// The translation template: generated from the view and the menu by
// build/i18n.mjs, committed, and complete (every string the page passes to
// _() at run time is in it).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Luci, runView, VIEW, type El } from './luci.ts';

interface I18n {
  TEMPLATE: string;
  template(root?: string): string;
  scanJs(src: string, file: string): { msgid: string; msgctxt?: string; plural?: string; line: number }[];
}

const i18n = (await import(join(process.cwd(), 'build/i18n.mjs'))) as I18n;
const committed = readFileSync(i18n.TEMPLATE, 'utf8');
const msgids = new Set([...committed.matchAll(/^msgid ((?:".*"\n?)+)/gm)].map((m) => m[1]!.split('\n').filter(Boolean).map((l) => JSON.parse(l) as string).join('')));

test('the committed .pot is what build/i18n.mjs generates (run it after changing strings)', () => {
  assert.fixture(committed, i18n.template());
});

test('it is in the layout of LuCI templates', () => {
  assert.match(committed, /^msgid ""\nmsgstr "Content-Type: text\/plain; charset=UTF-8"\n\n#: files\/www\/luci-static\/resources\/view\/vpn-passthrough\/overview\.js:\d+\n/);
  for (const line of committed.split('\n')) assert.ok(line.length <= 79 || line.startsWith('#:'), line);
  assert.ok(msgids.has('VPN Passthrough'), 'the menu title');
});

test('every string the page translates at run time is in the template', async () => {
  const status = { enabled: false, applied: false, helper: { pptp: 'missing' }, protocols: { pptp: { enabled: true, hosts: [] }, l2tp: { enabled: false, hosts: [] }, ipsec: {} }, last_apply: { time: 1, ok: false, duration_ms: 1, diagnostics: [] }, diagnostics: [] };
  const codes = ['config_missing', 'uci_syntax', 'invalid_family', 'zone_without_devices', 'pptp_helper_missing', 'nft_failed', 'nft_check_failed', 'no_inside_devices'];
  const sessions = { sessions: [{ protocol: 'pptp', inside: 'a', outside: 'b', transport: 'gre', helper: false, packets: 1, bytes: 1, age: 1 }], warnings: [] };
  const luci = new Luci((_o, m) => (m === 'sessions' ? sessions : { ...status, diagnostics: codes.map((code) => ({ severity: 'warning', code, message: 'm' })) }));
  const { node } = await runView(readFileSync(VIEW, 'utf8'), luci);

  await runView(readFileSync(VIEW, 'utf8'), new Luci(() => 4)); // not running
  for (const b of node.find((e: El) => e.tag === 'button')) await (b.attrs.click as () => Promise<void>)();

  assert.ok(luci.translated.size > 40, `${luci.translated.size} strings seen`);
  for (const s of luci.translated) assert.ok(msgids.has(s), `missing from the template: ${JSON.stringify(s)}`);
});

test('the scanner skips comments, strings and regexes, and refuses a _() it cannot translate', () => {
  const src = [
    "// _('not this')",
    "/* _('nor this') */ var a = '_(\\'no\\')', r = /_\\('x'\\)/g;",
    "x = _('one') + N_(n, 'apple', 'apples') + _('two', 'context');",
    "y = _('It\\'s \"quoted\"\\nand wrapped');",
  ].join('\n');

  assert.equal(i18n.scanJs(src, 't.js'), [
    { msgid: 'one', msgctxt: undefined, line: 3 },
    { msgid: 'apple', plural: 'apples', msgctxt: undefined, line: 3 },
    { msgid: 'two', msgctxt: 'context', line: 3 },
    { msgid: 'It\'s "quoted"\nand wrapped', msgctxt: undefined, line: 4 },
  ]);
  assert.throws(() => i18n.scanJs('x = _(name);', 't.js'), /t\.js:1: _\(\) needs string literals/);
  assert.throws(() => i18n.scanJs("x = _('a' + b);", 't.js'), /unexpected "\+"/);
});

test.run();
