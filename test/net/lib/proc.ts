// The processes a traffic test starts: commands that run to completion
// (always bounded by a timeout) and daemons whose output lines are kept and
// can be waited for. Every daemon is registered, so teardown, and process
// exit whatever the cause, kill it by its PID.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Run inside this network namespace. */
  ns?: string;
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Debian's python3, not whatever python a PATH may put first. */
export const PYTHON = '/usr/bin/python3';

const inNs = (ns: string | undefined, argv: readonly string[]) => (ns ? ['ip', 'netns', 'exec', ns, ...argv] : [...argv]);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `fn` gives a truthy value (checked every 20 ms) and returns
 * it; throws naming `what` after timeoutMs. The timeout is a bound for a
 * machine that is busy, never a guess of how long things take. */
export async function until<T>(fn: () => T | undefined | null | false | 0, timeoutMs: number, what: string): Promise<T> {
  const deadline = now() + timeoutMs;

  for (;;) {
    const value = fn();

    if (value) return value;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Monotonic milliseconds on the clock Python's time.monotonic() reads (CLOCK_MONOTONIC). */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

export function execSync(argv: readonly string[], options: ExecOptions = {}): Result {
  const full = inNs(options.ns, argv);
  const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8', input: options.input ?? '', timeout: options.timeoutMs ?? 10_000, env: options.env ?? process.env });

  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.error ? String(r.error) : (r.stderr ?? '') };
}

export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<Result> {
  const full = inNs(options.ns, argv);

  return new Promise((resolve) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs ?? 10_000} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10_000);

    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => (stderr += String(e)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The result when it succeeded; otherwise an error that shows the command and its stderr. */
export function must(r: Result, what: string): Result {
  if (r.status !== 0) throw new Error(`${what} failed (status ${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);

  return r;
}

export interface Line {
  stream: 'out' | 'err';
  text: string;
  /** now() when it arrived. */
  t: number;
}

const live = new Set<Daemon>();

/** A long-running process; its output lines accumulate in `lines`. */
export class Daemon {
  readonly lines: Line[] = [];
  readonly exited: Promise<number>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private code: number | null = null;

  constructor(readonly label: string, argv: readonly string[], options: { ns?: string; env?: NodeJS.ProcessEnv } = {}) {
    const full = inNs(options.ns, argv);

    // Same process group as the test, so the runner's kill on timeout takes it too.
    this.child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    this.child.stdin!.on('error', () => undefined);
    live.add(this);
    for (const stream of ['out', 'err'] as const) {
      let partial = '';

      (stream === 'out' ? this.child.stdout! : this.child.stderr!).on('data', (d: Buffer) => {
        const parts = (partial + d.toString()).split('\n');

        partial = parts.pop()!;
        for (const text of parts) this.lines.push({ stream, text, t: now() });
        this.wake();
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.code = code ?? (signal ? 128 : 1);
        live.delete(this);
        this.wake();
        resolve(this.code);
      });
      this.child.on('error', (e) => this.lines.push({ stream: 'err', text: String(e), t: now() }));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.code === null;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** stdout lines that are JSON objects, parsed. */
  json<T = Record<string, unknown>>(): T[] {
    return this.lines.filter((l) => l.stream === 'out' && l.text.startsWith('{')).map((l) => JSON.parse(l.text) as T);
  }

  text(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  /** The first line from index `from` on that satisfies `test`, or undefined after timeoutMs (or exit). */
  waitFor(test: (line: Line) => boolean, timeoutMs: number, from = 0): Promise<Line | undefined> {
    return new Promise((resolve) => {
      let seen = from;
      const check = () => {
        for (; seen < this.lines.length; seen++) {
          if (test(this.lines[seen]!)) return done(this.lines[seen]);
        }
        if (!this.running) done(undefined);
      };
      const done = (line: Line | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(line);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);

      this.waiters.add(check);
      check();
    });
  }

  /** Waits for a JSON stdout line for which `test` holds; returns it parsed. */
  async waitJson<T = Record<string, unknown>>(test: (value: T) => boolean, timeoutMs: number, from = 0): Promise<T | undefined> {
    const parse = (l: Line) => (l.stream === 'out' && l.text.startsWith('{') ? (JSON.parse(l.text) as T) : undefined);
    const line = await this.waitFor((l) => {
      const v = parse(l);

      return v !== undefined && test(v);
    }, timeoutMs, from);

    return line && parse(line);
  }

  closeStdin(): void {
    this.child.stdin!.end();
  }

  /** SIGTERM, then SIGKILL if it is still there after graceMs. */
  async stop(graceMs = 300): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);

    await this.exited;
    clearTimeout(timer);
  }

  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The daemons still running (teardown checks this is empty). */
export const running = (): Daemon[] => [...live];

// Whatever ends this process, no daemon outlives it.
process.on('exit', () => {
  for (const d of live) d.signal('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
}
