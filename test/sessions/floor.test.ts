// The benchmark's floor (test/bench/floor.ts) must do the work it claims:
// for the lines it reads, the very sessions the classifier returns, in the
// same order. Otherwise the floor would be lower than it is.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Session } from '../../firmware/core/model.ts';
import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { floorSessions } from '../bench/floor.ts';
import { generateTable } from './generate.ts';

async function* chunked(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

// The floor leaves a control connection's helper unknown (the classifier
// settles it from the GRE flows after the whole table).
const shown = (s: Session) => JSON.stringify({ ...s, helper: s.transport === 'control' ? null : s.helper });

test('the floor returns the classifier\'s sessions, in its order, less the lines across chunk boundaries', async () => {
  for (const [entries, flows] of [[6000, 600], [20_000, 20], [3000, 3000]] as const) {
    const bytes = new TextEncoder().encode([...generateTable(entries, flows, 5)].join('\n') + '\n');
    const full = (await collectSessions(chunked(bytes, 1 << 30), { inside: null })).sessions.map(shown);
    const floor = (await floorSessions(chunked(bytes, 1 << 30), Math.floor(entries / flows))).map(shown);

    assert.is(full.length, flows);
    assert.is(new Set(full).size, flows, 'every session differs');
    // In one chunk only the table's first line is never read.
    assert.equal(floor, full.filter((s) => floor.includes(s)));
    assert.ok(floor.length >= flows - 1, `${floor.length} of ${flows}`);

    const small = await floorSessions(chunked(bytes, 4096), Math.floor(entries / flows));

    assert.ok(small.length > flows * 0.9 && small.every((s) => full.includes(shown(s))), `${small.length} of ${flows} in 4 KiB chunks`);
  }
});

test.run();
