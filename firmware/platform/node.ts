// Platform adapter for Node.js: the build and test host. Tests run the same
// commands and daemon as the router, through this file instead of tjs.ts.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { createReadStream, promises as fs } from 'node:fs';
import { createConnection, createServer, isIPv6, type Socket } from 'node:net';
import { constants } from 'node:os';

import type { Conn, Platform, RunOptions, RunResult, Server, TcpConn, UdpConn } from './platform.ts';

/** A socket as a pull-style Conn: chunks queue until read() asks for them. */
export function socketConn(socket: Socket): Conn {
  const chunks: Uint8Array[] = [];
  const waiting: ((chunk: Uint8Array | null) => void)[] = [];
  let ended = false;

  const push = (chunk: Uint8Array | null) => {
    const next = waiting.shift();

    if (next) next(chunk);
    else if (chunk) chunks.push(chunk);
  };

  socket.on('data', (data) => push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  socket.on('close', () => {
    ended = true;
    while (waiting.length) push(null);
  });
  socket.on('error', () => socket.destroy());

  return {
    read() {
      if (chunks.length) return Promise.resolve(chunks.shift()!);
      if (ended) return Promise.resolve(null);

      return new Promise((resolve) => waiting.push(resolve));
    },
    write(data) {
      return new Promise((resolve, reject) => {
        if (socket.destroyed) return reject(Object.assign(new Error('socket closed'), { code: 'EPIPE' }));
        socket.write(data, (e) => (e ? reject(e) : resolve()));
      });
    },
    close: () => socket.destroy(),
  };
}

function connectTcp(address: string, port: number, timeoutMs: number): Promise<TcpConn> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: address, port });
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error(`connect ETIMEDOUT ${address}:${port}`), { code: 'ETIMEDOUT' })), timeoutMs);

    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve({ ...socketConn(socket), local: { address: socket.localAddress!, port: socket.localPort! }, remote: { address: socket.remoteAddress!, port: socket.remotePort! } });
    });
  });
}

/** A connected dgram socket as a pull-style UdpConn: datagrams and ICMP
 * errors queue until receive() asks for them. */
async function connectUdp(address: string, port: number): Promise<UdpConn> {
  const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
  const queue: (Uint8Array | Error | null)[] = [];
  const waiting: ((item: Uint8Array | Error | null) => void)[] = [];
  let closed = false;
  const push = (item: Uint8Array | Error | null) => {
    const next = waiting.shift();

    if (next) next(item);
    else queue.push(item);
  };

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('message', (data: Buffer) => push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  socket.on('error', (e) => push(e));
  socket.on('close', () => {
    closed = true;
    while (waiting.length) push(null);
  });
  const local = socket.address();

  return {
    local: { address: local.address, port: local.port },
    send: (data) => new Promise((resolve, reject) => socket.send(data, (e) => (e ? reject(e) : resolve()))),
    async receive() {
      const item = queue.length ? queue.shift()! : closed ? null : await new Promise<Uint8Array | Error | null>((r) => waiting.push(r));

      if (item instanceof Error) throw item;

      return item;
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
      while (waiting.length) push(null);
    },
  };
}

function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];

    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined); // a child that never reads its stdin
    child.on('error', reject); // ENOENT: the program does not exist
    child.on('close', (code, signal) => {
      resolve({
        status: signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

async function* runChunks(argv: readonly string[], options: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const err: Buffer[] = [];
  const kill = () => child.kill('SIGTERM');

  options.signal?.addEventListener('abort', kill, { once: true });
  const closed = new Promise<number>((resolve, reject) => {
    child.on('error', reject); // ENOENT: the program does not exist
    child.on('close', (code, signal) => resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 0)));
  });
  let finished = false;

  closed.catch(() => undefined); // awaited below; an early stop must not leave it unhandled
  child.stderr.on('data', (d: Buffer) => err.push(d));
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    finished = true;
  } finally {
    options.signal?.removeEventListener('abort', kill);
    if (!finished) child.kill('SIGTERM');
  }

  const status = await closed;

  if (status !== 0 && !options.signal?.aborted) throw Object.assign(new Error(Buffer.concat(err).toString('utf8').trim() || `${argv[0]} exited with status ${status}`), { status });
}

export function nodePlatform(args: readonly string[] = process.argv.slice(2)): Platform {
  return {
    args,
    env: (name) => process.env[name],

    readFile: async (path) => new Uint8Array(await fs.readFile(path)),
    writeFile: (path, data, mode) => fs.writeFile(path, data, mode === undefined ? {} : { mode }),
    rename: (from, to) => fs.rename(from, to),
    remove: (path) => fs.rm(path, { recursive: true }),
    async makeDir(path, mode) {
      await fs.mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    },
    readDir: async (path) => (await fs.readdir(path)).sort(),
    exists: (path) => fs.stat(path).then(() => true, () => false),
    readLink: (path) => fs.readlink(path),
    async *readChunks(path) {
      for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
        yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    },

    run,
    runChunks,

    connect: (path) =>
      new Promise((resolve, reject) => {
        const socket = createConnection(path);

        socket.once('error', reject);
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(socketConn(socket));
        });
      }),
    listen: (path) =>
      new Promise((resolve, reject) => {
        const accepted: Conn[] = [];
        const waiting: ((c: Conn | null) => void)[] = [];
        let closed = false;
        const server = createServer((socket) => {
          const conn = socketConn(socket);
          const next = waiting.shift();

          if (next) next(conn);
          else accepted.push(conn);
        });

        server.once('error', reject);
        server.listen(path, () => {
          resolve({
            accept() {
              if (accepted.length) return Promise.resolve(accepted.shift()!);
              if (closed) return Promise.resolve(null);

              return new Promise((r) => waiting.push(r));
            },
            close() {
              closed = true;
              server.close();
              while (waiting.length) waiting.shift()!(null);
            },
          } satisfies Server);
        });
      }),

    lookup: async (name) => (await lookup(name, { all: true, verbatim: true })).map((a) => a.address),
    connectTcp,
    connectUdp,
    randomBytes: (length) => new Uint8Array(randomBytes(length)),

    onSignal(name, fn) {
      process.on(name, fn);

      return () => process.off(name, fn);
    },

    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    exit: (code) => process.exit(code),
  };
}
