// The slice of the txiki.js 26.x API that firmware/platform/tjs.ts calls,
// declared from the runtime as verified (../shared/notes/txiki-js.md) and
// from txiki.js v26.6.0 types/src/txikijs.d.ts. npm's @txikijs/types stops
// at 24.x and describes APIs that are gone, so it is not used.

declare namespace tjs {
  type Signal = 'SIGHUP' | 'SIGINT' | 'SIGTERM' | 'SIGUSR1' | 'SIGUSR2' | 'SIGPIPE';

  /** argv of the binary: [exe, 'run', script, ...args]. */
  const args: readonly string[];
  /** Live view of the environment. */
  const env: { [name: string]: string };

  function exit(code: number): never;
  function addSignalListener(sig: Signal, listener: () => void): void;
  function removeSignalListener(sig: Signal, listener: () => void): void;

  // Files. Errors are plain Errors with `.code` ('ENOENT' ...); never use
  // `instanceof tjs.Error` (it throws).
  interface StatResult {
    size: number;
    mode: number;
    isFile: boolean;
    isDirectory: boolean;
  }

  interface DirEnt {
    name: string;
    isFile: boolean;
    isDirectory: boolean;
  }

  interface DirHandle extends AsyncIterable<DirEnt> {
    close(): Promise<void>;
  }

  /** open(path, 'r'): read(buf) resolves the bytes read, null at the end. */
  interface FileHandle {
    read(buffer: Uint8Array, position?: number): Promise<number | null>;
    close(): void;
  }

  function open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  function readFile(path: string): Promise<Uint8Array>;
  function writeFile(path: string, data: string | Uint8Array, options?: { mode?: number }): Promise<void>;
  function rename(path: string, newPath: string): Promise<void>;
  function remove(path: string): Promise<void>;
  function makeDir(path: string, options?: { mode?: number; recursive?: boolean }): Promise<void>;
  function readDir(path: string): Promise<DirHandle>;
  function stat(path: string): Promise<StatResult>;
  function readLink(path: string): Promise<string>;

  // Processes.
  interface ProcessStatus {
    exit_status: number;
    term_signal: Signal | null;
  }

  interface ProcessReadableStream extends ReadableStream<Uint8Array> {
    bytes(): Promise<Uint8Array>;
    text(): Promise<string>;
  }

  interface Process {
    readonly pid: number;
    readonly stdin: WritableStream<Uint8Array> | null;
    readonly stdout: ProcessReadableStream | null;
    readonly stderr: ProcessReadableStream | null;
    kill(signal?: Signal): void;
    wait(): Promise<ProcessStatus>;
  }

  type ProcessStdio = 'inherit' | 'pipe' | 'ignore';

  /** A missing executable throws synchronously (code ENOENT). */
  function spawn(
    args: string[],
    options?: { env?: { [name: string]: string }; cwd?: string; stdin?: ProcessStdio; stdout?: ProcessStdio; stderr?: ProcessStdio },
  ): Process;

  // Unix domain sockets (Direct Sockets style).
  interface PipeSocket {
    readonly opened: Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
    readonly closed: Promise<void>;
    close(): void;
  }

  interface PipeServerSocket {
    readonly opened: Promise<{ readable: ReadableStream<PipeSocket> }>;
    readonly closed: Promise<void>;
    close(): void;
  }

  function connect(transport: 'pipe', path: string): Promise<PipeSocket>;

  // TCP and UDP (txiki.js 26.6 src/js/core/sockets.js, direct-sockets/*.js).
  // A host name is resolved with getaddrinfo; `signal` aborts a connect.
  interface TCPSocket {
    readonly opened: Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array>; localAddress: string; localPort: number; remoteAddress: string; remotePort: number }>;
    readonly closed: Promise<void>;
    close(): void;
  }

  interface UDPMessage {
    data: Uint8Array;
  }

  /** Connected: reads and writes {data}; ICMP errors reject the pending read. */
  interface UDPSocket {
    readonly opened: Promise<{ readable: ReadableStream<UDPMessage>; writable: WritableStream<UDPMessage>; localAddress: string; localPort: number; remoteAddress: string; remotePort: number }>;
    readonly closed: Promise<void>;
    close(): void;
  }

  function connect(transport: 'tcp', host: string, port: number, options?: { signal?: AbortSignal }): Promise<TCPSocket>;
  function connect(transport: 'udp', host: string, port: number): Promise<UDPSocket>;

  /** getaddrinfo (SOCK_STREAM, AI_ADDRCONFIG): family is 4 or 6. */
  interface Addr {
    family: number;
    ip: string;
  }

  function lookup(host: string, options: { family?: 4 | 6; all: true }): Promise<Addr[]>;
  function listen(transport: 'pipe', path: string): Promise<PipeServerSocket>;
}
