// Platform adapter for txiki.js 26.x, the runtime on the router.
// It only translates tjs calls into the Platform interface.

import type { Conn, Platform, RunOptions, RunResult, Server, SignalName, TcpConn, UdpConn } from './platform.ts';

const encoder = new TextEncoder();

/** Signal numbers on Linux, for the shell-style 128 + n exit status. */
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGTERM: 15 };

function wrapSocket(sock: { close(): void }, streams: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }): Conn {
  const reader = streams.readable.getReader();
  const writer = streams.writable.getWriter();
  let closed = false;

  return {
    async read() {
      if (closed) return null;
      const { done, value } = await reader.read();

      return done || !value ? null : value;
    },
    write: (data) => writer.write(data),
    close() {
      if (closed) return;
      closed = true;
      sock.close();
    },
  };
}

async function openSocket(sock: tjs.PipeSocket): Promise<Conn> {
  return wrapSocket(sock, await sock.opened);
}

async function connectTcp(address: string, port: number, timeoutMs: number): Promise<TcpConn> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(Object.assign(new Error(`connect ETIMEDOUT ${address}:${port}`), { code: 'ETIMEDOUT' })), timeoutMs);

  try {
    const sock = await tjs.connect('tcp', address, port, { signal: abort.signal });
    const opened = await sock.opened;

    return { ...wrapSocket(sock, opened), local: { address: opened.localAddress, port: opened.localPort }, remote: { address: opened.remoteAddress, port: opened.remotePort } };
  } finally {
    clearTimeout(timer);
  }
}

/** A connected UDP socket. A read still pending when it is closed never
 * settles in txiki.js, so receive() also watches for close(). */
async function connectUdp(address: string, port: number): Promise<UdpConn> {
  const sock = await tjs.connect('udp', address, port);
  const opened = await sock.opened;
  const reader = opened.readable.getReader();
  const writer = opened.writable.getWriter();
  let closed = false;
  let onClose = () => {};
  const whenClosed = new Promise<null>((resolve) => (onClose = () => resolve(null)));

  return {
    local: { address: opened.localAddress, port: opened.localPort },
    send: (data) => writer.write({ data }),
    receive: () => (closed ? Promise.resolve(null) : Promise.race([reader.read().then(({ done, value }) => (done || !value ? null : value.data)), whenClosed])),
    close() {
      if (closed) return;
      closed = true;
      onClose();
      sock.close();
    },
  };
}

let tmpCount = 0;

/** Programs found in PATH, by name. txiki.js looks a bare name up by
 * starting a child per PATH entry until one execs; a few stat() calls here
 * save those forks on every nft run. */
const found = new Map<string, string>();

async function which(name: string): Promise<string> {
  if (name.includes('/')) return name;
  const known = found.get(name);

  if (known) return known;
  for (const dir of (tjs.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const path = `${dir || '.'}/${name}`;
    const st = await tjs.stat(path).catch(() => null);

    if (st?.isFile && (st.mode & 0o111) !== 0) {
      found.set(name, path);

      return path;
    }
  }

  throw Object.assign(new Error(`${name}: not found in PATH`), { code: 'ENOENT' });
}

async function spawnCollect(argv: string[], options: RunOptions): Promise<RunResult> {
  const proc = tjs.spawn(argv, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', ...(options.env ? { env: options.env } : {}) });

  // Closing without writing is fine (see run): the child gets EOF at once.
  await proc.stdin!.getWriter().close();
  const [stdout, stderr, status] = await Promise.all([proc.stdout!.text(), proc.stderr!.text(), proc.wait()]);
  const code = status.term_signal ? 128 + (SIGNALS[status.term_signal] ?? 0) : status.exit_status;

  return { status: code, stdout, stderr };
}

async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const input = options.stdin ?? '';

  const program = [await which(argv[0]!), ...argv.slice(1)];

  if (input.length === 0) return spawnCollect(program, options);

  // txiki.js 26.6.0: a small write to a child's stdin never resolves, so
  // neither does close() and the child never sees EOF (fixed upstream after
  // the release). Hand the input over in a file instead.
  const path = `${tjs.env.TMPDIR || '/tmp'}/.vpn-passthrough-stdin-${Date.now().toString(36)}-${tmpCount++}`;

  await tjs.writeFile(path, typeof input === 'string' ? encoder.encode(input) : input, { mode: 0o600 });
  try {
    return await spawnCollect(['/bin/sh', '-c', 'exec "$@" < "$0"', path, ...program], options);
  } finally {
    await tjs.remove(path).catch(() => undefined);
  }
}

const CHUNK = 64 * 1024;

/** One read ahead: libuv reads the next chunk in its thread pool while the
 * consumer works on this one (on the router: while the kernel prints the
 * next part of the conntrack table). Reads stay sequential, one at a time. */
async function* readChunks(path: string): AsyncIterable<Uint8Array> {
  const file = await tjs.open(path, 'r');
  let buffer = new Uint8Array(CHUNK);
  let next: Promise<number | null> = file.read(buffer);

  // Looked at when awaited; meanwhile a failure must not count as unhandled.
  next.catch(() => undefined);
  try {
    for (;;) {
      const n = await next;

      if (!n) return;
      const chunk = buffer.subarray(0, n);

      buffer = new Uint8Array(CHUNK);
      next = file.read(buffer);
      next.catch(() => undefined);
      yield chunk;
    }
  } finally {
    await next.catch(() => undefined);
    file.close();
  }
}

async function* runChunks(argv: readonly string[], options: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
  const proc = tjs.spawn([await which(argv[0]!), ...argv.slice(1)], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const stderr = proc.stderr!.text();
  const reader = proc.stdout!.getReader();
  const kill = () => proc.kill('SIGTERM');
  let finished = false;

  options.signal?.addEventListener('abort', kill, { once: true });

  try {
    for (;;) {
      const { done, value } = await reader.read();

      if (done) break;
      if (value) yield value;
    }
    finished = true;
  } finally {
    options.signal?.removeEventListener('abort', kill);
    // The consumer stopped early: do not leave the child behind.
    if (!finished) proc.kill('SIGTERM');
  }

  const status = await proc.wait();
  const code = status.term_signal ? 128 + (SIGNALS[status.term_signal] ?? 0) : status.exit_status;

  if (code !== 0 && !options.signal?.aborted) throw Object.assign(new Error((await stderr).trim() || `${argv[0]} exited with status ${code}`), { status: code });
}

export function tjsPlatform(): Platform {
  const runAt = tjs.args.indexOf('run');
  // tjs run <script> args...  → args; a compiled executable: <exe> args...
  const args = runAt >= 0 ? tjs.args.slice(runAt + 2) : tjs.args.slice(1);

  return {
    args,
    env: (name) => tjs.env[name],

    readFile: (path) => tjs.readFile(path),
    writeFile: (path, data, mode) => tjs.writeFile(path, data, mode === undefined ? {} : { mode }),
    rename: (from, to) => tjs.rename(from, to),
    remove: (path) => tjs.remove(path),
    async makeDir(path, mode) {
      await tjs.makeDir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    },
    async readDir(path) {
      const dir = await tjs.readDir(path);
      const names: string[] = [];

      try {
        for await (const entry of dir) names.push(entry.name);
      } finally {
        await dir.close();
      }

      return names.sort();
    },
    async exists(path) {
      try {
        await tjs.stat(path);

        return true;
      } catch {
        return false;
      }
    },
    readLink: (path) => tjs.readLink(path),
    readChunks,

    run,
    runChunks,

    connect: async (path) => openSocket(await tjs.connect('pipe', path)),
    async listen(path) {
      const server = await tjs.listen('pipe', path);
      const clients = (await server.opened).readable.getReader();

      return {
        async accept(): Promise<Conn | null> {
          const { done, value } = await clients.read();

          return done || !value ? null : openSocket(value);
        },
        close: () => server.close(),
      } satisfies Server;
    },

    async lookup(name) {
      const found = await tjs.lookup(name, { all: true });

      return [...new Set((Array.isArray(found) ? found : [found]).map((a) => a.ip))];
    },
    connectTcp,
    connectUdp,
    randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),

    onSignal(name: SignalName, fn) {
      tjs.addSignalListener(name, fn);

      return () => tjs.removeSignalListener(name, fn);
    },

    out: (line) => console.log(line),
    err: (line) => console.error(line),
    exit: (code) => tjs.exit(code),
  };
}
