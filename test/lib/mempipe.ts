// Two connected in-memory Conn ends (what a socketpair gives), for running
// thousands of short client sessions without the kernel in between.

import type { Conn } from '../../firmware/platform/platform.ts';

class Inbox {
  private chunks: Uint8Array[] = [];
  private waiting: ((c: Uint8Array | null) => void)[] = [];
  closed = false;

  put(chunk: Uint8Array): void {
    const next = this.waiting.shift();

    if (next) next(chunk);
    else this.chunks.push(chunk);
  }

  take(): Promise<Uint8Array | null> {
    if (this.chunks.length) return Promise.resolve(this.chunks.shift()!);
    if (this.closed) return Promise.resolve(null);

    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(null);
  }
}

function end(inbox: Inbox, outbox: Inbox): Conn {
  return {
    read: () => inbox.take(),
    async write(data) {
      if (outbox.closed) throw Object.assign(new Error('pipe closed'), { code: 'EPIPE' });
      outbox.put(data.slice());
    },
    close() {
      inbox.close();
      outbox.close();
    },
  };
}

export function memPipe(): [Conn, Conn] {
  const a = new Inbox();
  const b = new Inbox();

  return [end(a, b), end(b, a)];
}
