// Plays ubusd's side of a recorded transcript over a real unix socket: sends
// each S>C message when the file says, and requires each C>S message from the
// client under test to equal the recorded bytes. One script per accepted
// connection, in order. Framing here is its own (12-byte header, then the
// rest), independent of the code under test.

import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

import type { Line } from './ubus-transcript.ts';

export type Chunking = 'message' | 'batch' | 'bytes';

export interface PlayOptions {
  /** How S>C bytes are written: one write per message, consecutive messages
   * in one write, or one byte per write (partial reads for the client). */
  chunking?: Chunking;
  /** Play only the first n lines, then close the connection (ubusd dies). */
  stopAfter?: number;
  /** After stopAfter lines, keep the connection open instead. */
  hold?: boolean;
  /** How long to wait for each client message (ms). */
  wait?: number;
  /** Milliseconds to wait before playing line i (a slow ubusd or peer). */
  pause?: Record<number, number>;
}

export interface PlayResult {
  errors: string[];
  /** C>S messages that matched. */
  matched: number;
}

export interface Playback {
  /** Resolves once every scripted line has been played. */
  scripted: Promise<void>;
  /** Resolves when the connection is over (client closed, or we closed it). */
  result: Promise<PlayResult>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Whole messages from a socket, by the header's length field. */
class MessageReader {
  private buf = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  /** The next message, null at end of stream, 'timeout' after `ms`. */
  async next(ms: number): Promise<Uint8Array | null | 'timeout'> {
    const deadline = Date.now() + ms;

    for (;;) {
      if (this.buf.length >= 12) {
        const len = 8 + (this.buf.readUInt32BE(8) & 0xffffff);

        if (this.buf.length >= len) {
          const msg = new Uint8Array(this.buf.subarray(0, len));

          this.buf = this.buf.subarray(len);

          return msg;
        }
      }
      if (this.ended) return null;
      const left = deadline - Date.now();

      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);

        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

async function write(socket: Socket, bytes: Uint8Array, chunking: Chunking): Promise<void> {
  if (chunking !== 'bytes') return void socket.write(bytes);
  for (const b of bytes) {
    socket.write(Uint8Array.of(b));
    await new Promise((r) => setImmediate(r));
  }
}

async function play(socket: Socket, lines: readonly Line[], options: PlayOptions, scripted: () => void): Promise<PlayResult> {
  const reader = new MessageReader(socket);
  const chunking = options.chunking ?? 'message';
  const wait = options.wait ?? 5000;
  const errors: string[] = [];
  let matched = 0;
  let batch: Uint8Array[] = [];
  const flush = async () => {
    if (batch.length) await write(socket, Buffer.concat(batch), chunking);
    batch = [];
  };
  const count = Math.min(options.stopAfter ?? lines.length, lines.length);

  for (let i = 0; i < count && errors.length === 0; i++) {
    const line = lines[i]!;

    if (options.pause?.[i]) {
      await flush();
      await new Promise((r) => setTimeout(r, options.pause![i]));
    }
    if (line.dir === 'S>C') {
      if (chunking === 'batch') batch.push(line.bytes);
      else await write(socket, line.bytes, chunking);
      continue;
    }
    await flush();
    const got = await reader.next(wait);

    if (got === 'timeout' || got === null) errors.push(`line ${i}: expected C>S ${hex(line.bytes)}, got ${got === null ? 'end of stream' : 'nothing'}`);
    else if (hex(got) !== hex(line.bytes)) errors.push(`line ${i}: C>S differs\n  expected ${hex(line.bytes)}\n  got      ${hex(got)}`);
    else matched++;
  }
  await flush();
  scripted();
  if (options.stopAfter !== undefined && !options.hold) {
    // ubusd goes away: what was written still arrives, then end of stream.
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => socket.destroy(), 1000);

      socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      socket.end();
    });

    return { errors, matched };
  }
  // The client closes when done (as the CLI did); it must send nothing more.
  for (;;) {
    const extra = await reader.next(options.hold ? 60_000 : wait);

    if (extra === null) break;
    if (extra === 'timeout') {
      if (!options.hold) errors.push('client did not close the connection after the transcript');
      break;
    }
    errors.push(`unexpected C>S after the transcript: ${hex(extra)}`);
  }
  socket.destroy();

  return { errors, matched };
}

export class ReplayServer {
  private readonly scripts: { lines: readonly Line[]; options: PlayOptions; scripted: () => void; done: (r: PlayResult) => void }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly path: string,
    private server: Server | undefined,
  ) {}

  static async start(path: string): Promise<ReplayServer> {
    const s = new ReplayServer(path, undefined);

    await s.listen();

    return s;
  }

  /** Script for the next connection the client opens. */
  play(lines: readonly Line[], options: PlayOptions = {}): Playback {
    let scripted!: () => void;
    let done!: (r: PlayResult) => void;
    const playback = {
      scripted: new Promise<void>((r) => (scripted = r)),
      result: new Promise<PlayResult>((r) => (done = r)),
    };

    this.scripts.push({ lines, options, scripted, done });

    return playback;
  }

  /** Stops accepting (connects now fail) without touching open connections. */
  async stopListening(): Promise<void> {
    const server = this.server;

    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    rmSync(this.path, { force: true });
  }

  async listen(): Promise<void> {
    rmSync(this.path, { force: true });
    const server = createServer((socket) => {
      const script = this.scripts.shift();

      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      if (!script) return void socket.destroy();
      void play(socket, script.lines, script.options, script.scripted).then(script.done, (e: unknown) => script.done({ errors: [String(e)], matched: 0 }));
    });

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await this.stopListening();
  }
}
