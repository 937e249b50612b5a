// The LuCI translation template: every _('...') of the views and the menu
// titles, as po/templates/vpn-passthrough.pot in the format of LuCI's own
// templates (references, msgids sorted, long ones wrapped), so translators
// and luci.mk's po2lmo can use it.
//
//   node build/i18n.mjs            write the template
//   node build/i18n.mjs --check    exit 1 when the committed one is stale

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { ROOT } from './common.mjs';

export const VIEWS = 'files/www/luci-static/resources/view/vpn-passthrough';
export const MENU = 'files/usr/share/luci/menu.d/luci-app-vpn-passthrough.json';
export const TEMPLATE = 'package/luci-app-vpn-passthrough/po/templates/vpn-passthrough.pot';

const JS_STRING = { "'": true, '"': true };

/** Reads a JS string literal starting at i (a quote); returns [value, end]. */
function readString(src, i) {
  const quote = src[i];
  let out = '';

  for (i++; i < src.length && src[i] !== quote; i++) {
    if (src[i] === '\n') throw new Error('unterminated string');
    if (src[i] !== '\\') {
      out += src[i];
      continue;
    }
    const c = src[++i];

    out += { n: '\n', t: '\t', r: '\r', '\n': '' }[c] ?? c;
  }

  return [out, i + 1];
}

function skipSpace(src, i) {
  while (/\s/.test(src[i] ?? '')) i++;

  return i;
}

/**
 * The translatable strings of one JS source: [{ msgid, msgctxt?, plural?,
 * line }]. Skips comments, strings, template literals and regex literals;
 * a _() whose arguments are not string literals is an error (it could not
 * be translated).
 */
export function scanJs(src, file) {
  const found = [];
  const lineAt = (i) => src.slice(0, i).split('\n').length;
  let prev = ''; // last significant character, to tell a regex from a division

  for (let i = 0; i < src.length; ) {
    const c = src[i];

    if (c === '/' && src[i + 1] === '/') i = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i);
    else if (c === '/' && src[i + 1] === '*') i = src.indexOf('*/', i + 2) + 2;
    else if (JS_STRING[c]) [, i] = readString(src, i), (prev = 'a');
    else if (c === '`') {
      for (i++; i < src.length && src[i] !== '`'; i++) if (src[i] === '\\') i++;
      i++, (prev = 'a');
    } else if (c === '/' && (prev === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(prev))) {
      for (i++; i < src.length && src[i] !== '/'; i++) {
        if (src[i] === '\\') i++;
        else if (src[i] === '[') while (src[++i] !== ']') if (src[i] === '\\') i++;
      }
      i++, (prev = 'a');
    } else if ((c === '_' || c === 'N') && !/[\w$.]/.test(src[i - 1] ?? '') && src.startsWith(c === '_' ? '_(' : 'N_(', i)) {
      const start = i;
      const args = [];

      i = skipSpace(src, i + (c === '_' ? 2 : 3));
      if (c === 'N') i = skipSpace(src, src.indexOf(',', i) + 1); // N_(count, ...)
      for (;;) {
        if (!JS_STRING[src[i]]) throw new Error(`${file}:${lineAt(start)}: ${c === '_' ? '_' : 'N_'}() needs string literals, found ${JSON.stringify(src.slice(i, i + 20))}`);
        const [value, end] = readString(src, i);

        args.push(value);
        i = skipSpace(src, end);
        if (src[i] === ')') break;
        if (src[i] !== ',') throw new Error(`${file}:${lineAt(start)}: unexpected ${JSON.stringify(src[i])} in a translated string`);
        i = skipSpace(src, i + 1);
      }
      i++, (prev = ')');
      found.push(c === '_' ? { msgid: args[0], msgctxt: args[1], line: lineAt(start) } : { msgid: args[0], plural: args[1], msgctxt: args[2], line: lineAt(start) });
    } else {
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  }

  return found;
}

/** The menu titles of a menu.d file, as LuCI's scanner takes them. */
export function scanMenu(text) {
  const lines = text.split('\n');

  return Object.values(JSON.parse(text))
    .filter((node) => typeof node.title === 'string')
    .map((node) => ({ msgid: node.title, line: lines.findIndex((l) => l.includes(`"title": ${JSON.stringify(node.title)}`)) + 1 }));
}

function quote(s) {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\t/g, '\\t').replace(/\n/g, '\\n')}"`;
}

// gettext's layout: one line when it fits in 79 columns, else "" and then
// lines broken after spaces (and after \n).
function field(name, s) {
  if (`${name} ${quote(s)}`.length <= 79 && !s.slice(0, -1).includes('\n')) return `${name} ${quote(s)}`;

  const pieces = [];
  let line = '';

  for (const word of s.split(/(?<=[ \n])/)) {
    if (line && quote(line + word).length > 79) pieces.push(line), (line = '');
    line += word;
    if (word.endsWith('\n')) pieces.push(line), (line = '');
  }
  if (line) pieces.push(line);

  return [`${name} ""`, ...pieces.map(quote)].join('\n');
}

export function template(root = ROOT) {
  const entries = new Map();
  const add = (file, { msgid, msgctxt, plural, line }) => {
    const key = `${msgctxt ?? ''}\u0004${msgid}`;
    const entry = entries.get(key) ?? { msgid, msgctxt, plural, refs: [] };

    entry.refs.push(`${file}:${line}`);
    entries.set(key, entry);
  };

  for (const name of readdirSync(join(root, VIEWS)).filter((n) => n.endsWith('.js')).sort()) {
    const file = join(VIEWS, name);

    for (const s of scanJs(readFileSync(join(root, file), 'utf8'), file)) add(file, s);
  }
  for (const s of scanMenu(readFileSync(join(root, MENU), 'utf8'))) add(MENU, s);

  const sorted = [...entries.values()].sort((a, b) => (a.msgid < b.msgid ? -1 : a.msgid > b.msgid ? 1 : (a.msgctxt ?? '') < (b.msgctxt ?? '') ? -1 : 1));
  const blocks = sorted.map((e) =>
    [
      ...e.refs.map((r) => `#: ${r}`),
      ...(e.msgctxt ? [field('msgctxt', e.msgctxt)] : []),
      field('msgid', e.msgid),
      ...(e.plural ? [field('msgid_plural', e.plural), 'msgstr[0] ""', 'msgstr[1] ""'] : ['msgstr ""']),
    ].join('\n'),
  );

  return ['msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8"', ...blocks].join('\n\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = join(ROOT, TEMPLATE);
  const text = template();

  if (process.argv[2] === '--check') {
    let committed = '';

    try {
      committed = readFileSync(path, 'utf8');
    } catch {}
    if (committed !== text) {
      console.error(`i18n: ${relative(ROOT, path)} is stale: run node build/i18n.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(path, text);
    console.log(`i18n: wrote ${relative(ROOT, path)}`);
  }
}
