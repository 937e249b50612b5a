// Writes a generated conntrack table (test/sessions/generate.ts) to a file,
// streaming it, for benchmark 3.
//
//   node generate.mjs FILE ENTRIES VPN_FLOWS

import { createWriteStream } from 'node:fs';

import { generateTable } from '../sessions/generate.ts';

const [file, entries, vpn] = process.argv.slice(2) as [string, string, string];
const out = createWriteStream(file);

for (const line of generateTable(Number(entries), Number(vpn), 1)) {
  if (!out.write(line + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
}
await new Promise<void>((r) => out.end(() => r()));
