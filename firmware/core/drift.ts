// What the kernel lost of our table. Right after a load, `nft -s list table`
// (stateless: no counter values) shows how the kernel holds what we gave it;
// comparing a later listing with that one tells whether someone took any of
// it away since (a flush, a deleted table, a flushed chain or set, a dormant
// flag) and says what, in words for the log and `status`.

import { TABLE } from './render.ts';

/** One `name { ... }` block of the table (a chain, set, map, counter, ct
 * helper...), or the table's own lines (flags) under the key ''. */
type Blocks = Map<string, string[]>;

/** Lines from `elements = {` to the line that closes it. */
function skipElements(lines: string[], i: number): number {
  while (i < lines.length && !lines[i]!.trimEnd().endsWith('}')) i++;

  return i;
}

/** The listing without what traffic changes: the elements of dynamic sets
 * (esp_senders, which the forward chain fills). */
export function normalizeListing(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let dynamic = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;

    if (/^\t\S.*\{$/.test(line)) dynamic = false;
    if (/^\t\tflags .*\bdynamic\b/.test(line)) dynamic = true;
    if (dynamic && /^\t\telements = \{/.test(line)) {
      i = skipElements(lines, i);
      continue;
    }
    out.push(line);
  }

  return out.join('\n');
}

function blocks(listing: string): Blocks {
  const result: Blocks = new Map([['', []]]);
  let current = '';

  for (const line of listing.split('\n')) {
    const head = /^\t(\S.*) \{$/.exec(line);

    if (head) {
      current = head[1]!;
      result.set(current, []);
    } else if (line === '\t}') {
      current = '';
    } else if (/^\t/.test(line) && line.trim() !== '') {
      result.get(current)!.push(line.trim());
    }
  }

  return result;
}

/** What one block lost, in words: "chain forward lost its rules". */
function blockChange(name: string, expected: string[], actual: string[]): string {
  const kind = name.split(' ')[0];

  if (kind === 'chain' && actual.every((l) => l.startsWith('type ')) && expected.some((l) => !l.startsWith('type '))) return `${name} lost its rules`;
  if ((kind === 'set' || kind === 'map') && expected.some((l) => l.startsWith('elements')) && !actual.some((l) => l.startsWith('elements'))) return `${name} lost its elements`;

  return `${name} changed`;
}

export const TABLE_GONE = `table inet ${TABLE} is gone`;

/**
 * null when the kernel has what `expected` shows; otherwise what differs, in
 * words. `expected` is '' when we loaded no table (the master switch off);
 * `actual` is null when the kernel has no table of ours.
 */
export function describeDrift(expected: string, actual: string | null): string | null {
  const table = `table inet ${TABLE}`;

  if (expected === '') return actual === null ? null : `${table} exists though none should be loaded`;
  if (actual === null) return TABLE_GONE;

  const want = blocks(normalizeListing(expected));
  const have = blocks(normalizeListing(actual));
  const changes: string[] = [];

  for (const [name, lines] of want) {
    const got = have.get(name);

    if (name === '') {
      if (got!.join('\n') !== lines.join('\n')) changes.push(`${table} changed (${got!.join('; ') || 'its flags'})`);
    } else if (!got) {
      changes.push(`${name} is gone`);
    } else if (got.join('\n') !== lines.join('\n')) {
      changes.push(blockChange(name, lines, got));
    }
  }
  for (const name of have.keys()) if (!want.has(name)) changes.push(`${name} was added`);

  if (changes.length === 0) return null;
  const shown = changes.slice(0, 3).join(', ');

  return changes.length > 3 ? `${shown} and ${changes.length - 3} more` : shown;
}
