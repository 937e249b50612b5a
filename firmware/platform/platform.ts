// The only door from the program to the outside world. The pure core never
// sees it; commands and the daemon receive one, built by the entry point for
// the runtime they run on (tjs on the router, Node in tests). Adapters only
// translate: no policy lives in them.

/** What a finished child process left behind. */
export interface RunResult {
  /** Exit status; 128 + n when killed by signal n (as a shell reports it). */
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Bytes or text for the child's stdin; it gets EOF after them. */
  stdin?: string | Uint8Array;
  /** Replaces the environment when given. */
  env?: Record<string, string>;
}

/** A connected byte stream: a unix socket. */
export interface Conn {
  /** The next chunk as it arrived, or null at end of stream. */
  read(): Promise<Uint8Array | null>;
  write(data: Uint8Array): Promise<void>;
  close(): void;
}

/** A listening unix socket. */
export interface Server {
  /** The next client, or null once closed. */
  accept(): Promise<Conn | null>;
  close(): void;
}

/** An address and port of a socket. */
export interface Endpoint {
  address: string;
  port: number;
}

/** A TCP connection, with the addresses it runs between. */
export interface TcpConn extends Conn {
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

/** A UDP socket connected to one peer: it sends there and receives only from there. */
export interface UdpConn {
  readonly local: Endpoint;
  send(data: Uint8Array): Promise<void>;
  /** The next datagram, or null once closed. An ICMP error about an earlier
   * datagram throws with its errno name as code ('ECONNREFUSED' for port
   * unreachable, 'EHOSTUNREACH' ...). */
  receive(): Promise<Uint8Array | null>;
  close(): void;
}

export type SignalName = 'SIGHUP' | 'SIGTERM' | 'SIGINT';

export interface Platform {
  /** Command-line arguments after the program's own name. */
  readonly args: readonly string[];
  env(name: string): string | undefined;

  /** Files. Failures throw errors whose `code` is the errno name ('ENOENT'). */
  readFile(path: string): Promise<Uint8Array>;
  /** Replaces the file (not atomic: see writeFileAtomic in core/files.ts). */
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Creates the directory and its parents; no error if it exists. */
  makeDir(path: string, mode?: number): Promise<void>;
  /** The names in a directory; throws ENOENT when it does not exist. */
  readDir(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Where a symbolic link points (/proc/PID/fd/N → "socket:[INODE]"). */
  readLink(path: string): Promise<string>;
  /** A file's bytes chunk by chunk, for files too large to hold at once
   * (the conntrack table). Throws like readFile when it cannot be read. */
  readChunks(path: string): AsyncIterable<Uint8Array>;

  /** Runs a program (argv[0] looked up in PATH) to completion. Throws with
   * code 'ENOENT' when the program does not exist. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Runs a program (stdin empty) and yields its stdout as it arrives. When
   * it exits non-zero, iterating throws an error with `status` and its
   * stderr as the message; a missing program throws code 'ENOENT'. An abort
   * of `signal` kills it (SIGTERM) and ends the iteration quietly: the way
   * to stop one that runs until told (`nft monitor`). */
  runChunks(argv: readonly string[], options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;

  connect(path: string): Promise<Conn>;
  listen(path: string): Promise<Server>;

  /** The addresses a host name resolves to (getaddrinfo's order). Throws
   * with the resolver's code ('ENOTFOUND', 'EAI_NONAME' ...). */
  lookup(name: string): Promise<string[]>;
  /** A TCP connection to an address; gives up after timeoutMs (code
   * 'ETIMEDOUT'); 'ECONNREFUSED', 'EHOSTUNREACH' ... as the kernel says. */
  connectTcp(address: string, port: number, timeoutMs: number): Promise<TcpConn>;
  /** A UDP socket on an ephemeral local port, connected to address:port. */
  connectUdp(address: string, port: number): Promise<UdpConn>;
  /** Bytes from the system's random source (SPIs, nonces, tunnel IDs). */
  randomBytes(length: number): Uint8Array;

  /** Calls fn on each delivery of the signal; returns the unsubscribe. */
  onSignal(name: SignalName, fn: () => void): () => void;

  /** One line to stdout / stderr (the newline is added). */
  out(line: string): void;
  err(line: string): void;

  exit(code: number): never;
}

/** The errno name carried by a platform error, if any. */
export function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;

    return typeof code === 'string' ? code : undefined;
  }

  return undefined;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
