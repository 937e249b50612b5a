// A whole conntrack table, streamed: chunks → lines → the collector. Pure:
// the chunks come from whoever read them (a file, `conntrack -L`, a test).

import type { Session } from '../model.ts';
import { SessionCollector, type CollectOptions } from './classify.ts';
import { LineSplitter } from './lines.ts';

export interface TableSessions {
  sessions: Session[];
  /** Entries read, and lines skipped as malformed. */
  entries: number;
  skipped: number;
}

export async function collectSessions(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: CollectOptions): Promise<TableSessions> {
  const collector = new SessionCollector(options);
  const splitter = new LineSplitter();

  for await (const chunk of chunks) splitter.pushBlock(chunk, collector);
  splitter.end((b, start, end) => collector.bytes(b, start, end));

  return { sessions: collector.sessions(), entries: collector.entries, skipped: collector.skipped + splitter.dropped };
}
