// The watchdog: `nft monitor` as a child process, printing every change
// the kernel commits to any ruleset. A transaction that touches our table
// (`nft flush ruleset`, fw4 flush, another tool deleting or flushing part
// of it, and our own loads too) makes it call `touched`, once per
// transaction; the daemon then checks that the kernel still has what we
// loaded, which our own loads pass. Idle it costs a sleeping child and a
// pipe: no timer, no polling. When the child dies it is started again
// (backing off), and `touched` is called then too, as changes may have gone
// unseen meanwhile.

import { TABLE } from '../core/render.ts';
import { errorCode, errorMessage, type Platform } from '../platform/platform.ts';

export interface WatchdogOptions {
  /** Called after a transaction that touched our table, with a summary
   * ("delete table inet vpn_passthrough (by process 4242 (nft))"). */
  touched(event: string): void;
  log(line: string): void;
  err(line: string): void;
  /** First delay before starting `nft monitor` again, ms (doubling to 5 min). */
  retryMs?: number;
}

const OURS = new RegExp(` inet ${TABLE}(?: |$)`);
/** esp_senders fills itself from traffic; its elements are not our rules. */
const DYNAMIC = new RegExp(`^(?:add|delete) element inet ${TABLE} esp_senders `);
/** nft ends each transaction's events with "# new generation 7 by process 4242 (nft)". */
const GENERATION = /^# new generation \d+(?: by (.*))?$/;
/** Events without their generation line are reported after this long anyway. */
const SETTLE_MS = 50;
const MAX_RETRY_MS = 5 * 60_000;
/** A child that ran this long was fine: the back-off starts over. */
const STABLE_MS = 60_000;

export class Watchdog {
  private readonly abort = new AbortController();
  private first: string | null = null;
  private count = 0;
  private settle: ReturnType<typeof setTimeout> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private delay: number;

  constructor(
    private readonly platform: Platform,
    private readonly options: WatchdogOptions,
  ) {
    this.delay = options.retryMs ?? 1000;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    clearTimeout(this.settle);
    clearTimeout(this.retry);
    this.abort.abort();
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    const started = performance.now();
    let why = 'it ended';

    try {
      let partial = '';
      const decoder = new TextDecoder();

      for await (const chunk of this.platform.runChunks(['nft', 'monitor'], { signal: this.abort.signal })) {
        const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n');

        partial = lines.pop()!;
        for (const line of lines) this.line(line);
      }
    } catch (e) {
      why = errorCode(e) === 'ENOENT' ? 'nft is not installed' : errorMessage(e);
    }
    if (this.stopped) return;

    if (performance.now() - started > STABLE_MS) this.delay = this.options.retryMs ?? 1000;
    this.options.err(`vpn-passthrough: watchdog: nft monitor stopped (${why}); starting it again in ${Math.round(this.delay / 1000)} s`);
    this.retry = setTimeout(() => {
      if (this.stopped) return;
      this.options.log('vpn-passthrough: watchdog: nft monitor started again');
      this.start();
      this.options.touched('nft monitor started again (changes may have gone unseen)');
    }, this.delay);
    this.delay = Math.min(this.delay * 2, MAX_RETRY_MS);
  }

  private line(line: string): void {
    const generation = GENERATION.exec(line);

    if (generation) {
      this.flush(generation[1]);

      return;
    }
    if (!OURS.test(line) || DYNAMIC.test(line)) return;
    // The table's own fate says most: "delete table ..." rather than its first rule.
    if (this.first === null || (line.startsWith('delete table ') && !this.first.startsWith('delete table '))) this.first = line;
    this.count++;
    this.settle ??= setTimeout(() => this.flush(undefined), SETTLE_MS);
  }

  /** One transaction's events are in: report it if it touched our table. */
  private flush(by: string | undefined): void {
    clearTimeout(this.settle);
    this.settle = undefined;
    if (this.first === null) return;

    const more = this.count > 1 ? `, and ${this.count - 1} more change${this.count > 2 ? 's' : ''}` : '';
    const event = `${this.first}${more}${by ? ` (by ${by})` : ''}`;

    this.first = null;
    this.count = 0;
    this.options.touched(event);
  }
}
