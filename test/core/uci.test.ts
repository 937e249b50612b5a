// The UCI parser and writer against what the real libuci did with the same
// files (../shared/fixtures/uci: `uci export` outputs).

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { formatUci } from '../../firmware/core/uci/format.ts';
import { parseUci, UciSyntaxError } from '../../firmware/core/uci/parse.ts';
import { shared } from '../lib/fixtures.ts';

const read = (path: string) => shared(`uci/${path}`);

for (const name of ['basic', 'quoting', 'firewall']) {
  test(`${name}: parse then export equals libuci's \`uci export ${name}\``, () => {
    assert.fixture(formatUci(parseUci(read(`config/${name}`)), name), read(`${name}.export.txt`));
  });

  test(`${name}: the export parses back to the same sections`, () => {
    const once = parseUci(read(`config/${name}`));

    assert.equal(parseUci(formatUci(once)).sections.map((s) => [s.type, s.name, [...s.options]]), once.sections.map((s) => [s.type, s.name, [...s.options]]));
  });
}

test('values as libuci reads them: quoting, escapes, empty, comments', () => {
  const q = parseUci(read('config/quoting')).sections[0]!.options;

  assert.is(q.get('unquoted'), 'plain_value');
  assert.is(q.get('apostrophe'), "it's here");
  assert.is(q.get('sq_in_dq'), "it's");
  assert.is(q.get('backslash'), 'C:\\path\\to');
  assert.is(q.get('hash'), '# not a comment');
  assert.is(q.get('semicolon'), 'a;b');
  assert.is(q.get('empty'), undefined, "option '' is dropped");
  assert.equal(q.get('spaced'), ['first item', 'second  item', ''], "list '' is kept");
});

test('anonymous and named sections; a named section given twice continues', () => {
  const pkg = parseUci("config zone\n\toption name 'lan'\nconfig globals 'g'\n\toption a '1'\nconfig globals 'g'\n\toption b '2'\n");

  assert.equal(pkg.sections.map((s) => [s.type, s.name]), [['zone', null], ['globals', 'g']]);
  assert.equal([...pkg.sections[1]!.options], [['a', '1'], ['b', '2']]);
});

test('short commands, `;` between commands, double-quote escapes, line continuation', () => {
  const pkg = parseUci('c t \'n\'; o a "x\\"y"; l b 1\nl b 2 # two\no c long\\\nvalue\n');

  assert.equal([...pkg.sections[0]!.options], [['a', 'x"y'], ['b', ['1', '2']], ['c', 'longvalue']]);
});

test('a quoted value may span lines', () => {
  assert.is(parseUci("config t 'n'\n\toption a 'one\ntwo'\n").sections[0]!.options.get('a'), 'one\ntwo');
});

for (const [text, message] of [
  ["option a 'b'\n", /line 1: option\/list command found before the first section/],
  ["config t 'n'\n\tfrobnicate a\n", /line 2: invalid command 'frobnicate'/],
  ["config t 'n'\n\toption a 'b' c\n", /line 2: too many arguments/],
  ["config t 'bad-name'\n", /line 1: invalid character in section name 'bad-name'/],
  ["config t 'n'\n\toption 'a.b' c\n", /line 2: invalid character in option name 'a.b'/],
  ["config t 'n'\n\toption a 'unterminated\n", /line 2: EOF with unterminated '/],
  ['config\n', /line 1: config without type/],
] as const) {
  test(`syntax error: ${JSON.stringify(text)}`, () => {
    try {
      parseUci(text);
      assert.unreachable('parsed');
    } catch (e) {
      assert.instance(e, UciSyntaxError);
      assert.match((e as Error).message, message);
    }
  });
}

test.run();
