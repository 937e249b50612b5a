// `vpn-passthrough daemon`, run by procd: applies the rules at start,
// re-applies on SIGHUP (the init script's reload), publishes the ubus object
// `vpn-passthrough` and sends `vpn-passthrough.applied` after every apply and
// `vpn-passthrough.session` when a VPN session appears or ends (polled only
// while the object has subscribers or a caller asked for sessions recently).
// It keeps the rules in the kernel: whatever takes them away (fw4 flush,
// `nft flush ruleset`, another tool), the watchdog (nft monitor) or
// firewall4's include (ubus `restore`) makes it put them back, unless the
// init script is stopping the service. It leaves its table in place when it
// exits: the init script removes it on stop, so a respawn never opens a gap.
// The conntrack table is read at most once per poll interval: ubus callers
// (LuCI every 5 s) and the event poll share that one report.

import { formatDiagnostic, hasErrors } from '../core/diag.ts';
import type { HelperState, Session, SessionsReport } from '../core/model.ts';
import { diffSessions } from '../core/sessions/diff.ts';
import { apply, checkKernel, reloadLast, status, type ApplyOptions, type ApplyResult, type Paths } from '../engine/engine.ts';
import { sessions } from '../engine/sessions.ts';
import { probeMethod } from './probe.ts';
import { STOPPED } from '../engine/state.ts';
import { errorMessage, type Platform } from '../platform/platform.ts';
import { connect, type PublishedObject, type UbusClient } from '../ubus/client.ts';
import { UbusError } from '../ubus/errors.ts';
import type { Table } from '../ubus/value.ts';
import { VERSION } from '../version.ts';
import { report } from '../cli/report.ts';
import { InvalidArgument, parseSetArgs } from './args.ts';
import { OncePerInterval } from './once.ts';
import { serverMethods } from './servers.ts';
import { writeProtocol } from './uci.ts';
import { Watchdog } from './watchdog.ts';

export const OBJECT = 'vpn-passthrough';

export interface DaemonOptions {
  paths: Paths;
  /** ubusd's socket (`ubus -s`). */
  socket: string;
  /** Seconds between session polls while someone watches. */
  pollSeconds?: number;
  /** How long a `sessions` call counts as someone watching, seconds. */
  watchSeconds?: number;
  /** Reconnect delay to a ubusd that was not there at start, ms. */
  retryMs?: number;
  /** Watch the kernel's rulesets (nft monitor) and restore what is taken
   * away; default on. Off, only firewall4's include (ubus restore) does. */
  watchdog?: boolean;
}

export interface RestoreOutcome {
  restored: boolean;
  /** What the kernel had lost, if anything. */
  lost?: string;
  duration_ms: number;
}

const asTable = (value: unknown) => value as Table;

export class Daemon {
  private ubus: UbusClient | null = null;
  private object: PublishedObject | null = null;
  private helper: HelperState | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private lastSessionsCall = -Infinity;
  private previous: Session[] | null = null;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private poller: ReturnType<typeof setInterval> | undefined;
  private watchdog: Watchdog | null = null;
  /** A check the watchdog asked for has not started yet: more events join it. */
  private checkQueued = false;
  private stopping = false;
  /** The sessions report, read at most once per poll interval (a little
   * under it, so each poll finds the last one stale). */
  private readonly sessionsReport: OncePerInterval<SessionsReport>;

  constructor(
    private readonly platform: Platform,
    private readonly options: DaemonOptions,
  ) {
    this.sessionsReport = new OncePerInterval(() => sessions(platform, options.paths, { netifd: this.netifd }), (options.pollSeconds ?? 10) * 900);
  }

  private log(line: string): void {
    this.platform.out(line);
  }

  /** netifd's interfaces, when ubus is up (the engine falls back to /etc/config/network). */
  private readonly netifd = async (): Promise<unknown> => (this.ubus?.connected ? this.ubus.call('network.interface', 'dump', {}, { timeout: 3000 }) : null);

  /** Runs one change of the kernel at a time: a SIGHUP during a ubus `set`
   * waits its turn, and a check never sees an apply half done. */
  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);

    this.queue = run.catch(() => undefined);

    return run;
  }

  apply(reason: string): Promise<ApplyResult> {
    return this.enqueue(() => this.applyNow(reason));
  }

  private async applyNow(reason: string, more: Pick<ApplyOptions, 'lost' | 'event'> = {}): Promise<ApplyResult> {
    const result = await apply(this.platform, this.options.paths, { netifd: this.netifd, trigger: reason, ...more, ...(this.helper ? { helper: this.helper } : {}) });

    if (result.helper === 'loaded' || result.helper === 'builtin') this.helper = result.helper;
    for (const d of result.diagnostics) (d.severity === 'error' ? this.platform.err : this.platform.out)(formatDiagnostic(d));
    if (result.restored) this.log(`vpn-passthrough: restored our rules: the kernel had lost them (${result.restored}) [${reason}${more.event ? `: ${more.event}` : ''}]`);
    if (result.ok) report(result, (line) => this.log(`${line} [${reason}]`));
    else this.platform.err(`vpn-passthrough: apply failed [${reason}]; the previous rules stay in place`);
    this.sessionsReport.forget(); // new rules, new counters
    this.ubus?.send('vpn-passthrough.applied', asTable({ ok: result.ok, unchanged: result.unchanged, duration_ms: result.duration_ms, diagnostics: result.diagnostics, ...(result.restored ? { restored: result.restored } : {}) })).catch(() => undefined);

    return result;
  }

  /** Checks that the kernel still has what we loaded and puts back what it
   * lost: from UCI as any apply does, or, when the configuration no longer
   * gives a ruleset, the last one as it was. Nothing while the init script
   * stops the service: then the owner takes the rules away on purpose. */
  restore(trigger: string, event?: string): Promise<RestoreOutcome> {
    return this.enqueue(() => this.restoreNow(trigger, event));
  }

  private async restoreNow(trigger: string, event?: string): Promise<RestoreOutcome> {
    const started = performance.now();
    const done = (lost?: string): RestoreOutcome => ({ restored: lost !== undefined, ...(lost ? { lost } : {}), duration_ms: Math.round((performance.now() - started) * 10) / 10 });

    if (await this.platform.exists(`${this.options.paths.statedir}/${STOPPED}`)) return done();
    const lost = await checkKernel(this.platform, this.options.paths);

    if (lost === null) return done();
    const result = await this.applyNow(trigger, { lost, ...(event ? { event } : {}) });

    if (result.ok) return done(result.restored);

    const out = await reloadLast(this.platform, this.options.paths, { trigger, lost, ...(event ? { event } : {}) });

    if (hasErrors(out)) {
      for (const d of out) this.platform.err(formatDiagnostic(d));

      return done();
    }
    this.log(`vpn-passthrough: restored the rules last loaded, as they were: the kernel had lost them (${lost}) and the configuration gives none now [${trigger}]`);

    return done(lost);
  }

  /** The watchdog saw our table touched: one check for all the events
   * that come before it starts (ours included: it finds nothing to do). */
  private check(event: string): void {
    if (this.checkQueued || this.stopping) return;
    this.checkQueued = true;
    this.enqueue(() => {
      this.checkQueued = false;

      return this.restoreNow('watchdog', event);
    }).catch((e: unknown) => this.platform.err(`vpn-passthrough: watchdog: ${errorMessage(e)}`));
  }

  private status(): Promise<Table> {
    return status(this.platform, this.options.paths, this.netifd).then(asTable);
  }

  private methods() {
    return {
      status: { handler: () => this.status() },
      sessions: {
        handler: async () => {
          this.lastSessionsCall = performance.now();
          const report = await this.sessionsReport.get();

          // A new watcher has seen these: events start from here.
          this.previous ??= report.sessions;

          return asTable(report);
        },
      },
      apply: {
        handler: async () => {
          const result = await this.apply('ubus apply');
          const current = await this.status();

          if (!result.ok) throw new UbusError('UNKNOWN_ERROR', 'apply failed; the previous rules stay in place', { data: current });

          return current;
        },
      },
      // Its sockets wait while other calls are answered: handlers run side by side.
      probe: probeMethod(this.platform, this.options.paths, this.netifd, () => this.sessionsReport.get()),
      restore: {
        // firewall4's include asks after every start and reload (and anyone may).
        args: { trigger: 'string' } as const,
        handler: async (req: { args: Table }) => {
          const trigger = typeof req.args.trigger === 'string' && req.args.trigger !== '' ? req.args.trigger : 'ubus restore';

          return asTable(await this.restore(trigger));
        },
      },
      set: {
        args: { protocol: 'string', enabled: 'boolean', family: 'string', hosts: 'array' } as const,
        handler: async (req: { args: Table }) => {
          let args;

          try {
            args = parseSetArgs(req.args as Record<string, unknown>);
          } catch (e) {
            if (!(e instanceof InvalidArgument)) throw e;
            this.platform.err(`vpn-passthrough: ubus set refused: ${e.message}`);
            throw new UbusError('INVALID_ARGUMENT', e.message, { data: { error: e.message } });
          }

          const written = await writeProtocol(this.platform, this.options.paths, this.ubus, args);

          if (hasErrors(written)) {
            const message = written.filter((d) => d.severity === 'error').map(formatDiagnostic).join('; ');

            throw new UbusError('INVALID_ARGUMENT', message, { data: asTable({ error: message, diagnostics: written }) });
          }
          await this.apply(`ubus set ${args.protocol}`);

          return this.status();
        },
      },
      // VPN servers behind the router: set_server, delete_server, check_server.
      ...serverMethods({ platform: this.platform, paths: this.options.paths, ubus: () => this.ubus, netifd: this.netifd, apply: (reason) => this.apply(reason), status: () => this.status() }),
    };
  }

  /** Session events while someone watches: subscribers, or a recent `sessions` call. */
  private async pollSessions(): Promise<void> {
    const watching = this.object?.hasSubscribers || performance.now() - this.lastSessionsCall < (this.options.watchSeconds ?? 60) * 1000;

    if (!watching || !this.ubus?.connected) {
      this.previous = null;

      return;
    }

    const now = (await this.sessionsReport.get()).sessions;

    if (this.previous) {
      const { appeared, ended } = diffSessions(this.previous, now);

      for (const [action, list] of [['appeared', appeared], ['ended', ended]] as const) {
        for (const session of list) {
          const data = asTable({ action, ...session });

          await this.ubus.send('vpn-passthrough.session', data).catch(() => undefined);
          await this.object?.notify('session', data, { reply: false }).catch(() => undefined);
        }
      }
    }
    this.previous = now;
  }

  private async connectUbus(): Promise<boolean> {
    try {
      const ubus = await connect({
        connect: (path) => this.platform.connect(path),
        path: this.options.socket,
        onEvent: (event) => {
          if (event.type === 'disconnected') this.platform.err(`vpn-passthrough: lost ubus (${event.error.message}); reconnecting`);
          if (event.type === 'connected') this.log(`vpn-passthrough: connected to ubus (client id ${event.id.toString(16)})`);
          if (event.type === 'handler-failed') this.platform.err(`vpn-passthrough: ${event.where}: ${errorMessage(event.error)}`);
        },
      });

      this.ubus = ubus;
      this.object = await ubus.publish(OBJECT, this.methods());
      this.log(`vpn-passthrough: published ubus object ${OBJECT} on ${this.options.socket}`);

      return true;
    } catch (e) {
      this.ubus?.close();
      this.ubus = null;
      this.object = null;
      this.platform.err(`vpn-passthrough: ubus at ${this.options.socket} unavailable (${errorMessage(e)}); retrying`);

      return false;
    }
  }

  /** Connects to ubus until it works; ubus's own client reconnects after that. */
  private retryUbus(): void {
    this.retry = setTimeout(async () => {
      this.retry = undefined;
      if (this.stopping) return;
      if (await this.connectUbus()) await this.apply('ubus connected');
      else this.retryUbus();
    }, this.options.retryMs ?? 5000);
  }

  /** Resolves with the exit status once SIGTERM (or SIGINT) arrives. */
  async run(): Promise<number> {
    this.log(`vpn-passthrough ${VERSION}: daemon starting (config ${this.options.paths.confdir})`);
    // Started: whatever a stop said no longer holds.
    await this.platform.remove(`${this.options.paths.statedir}/${STOPPED}`).catch(() => undefined);

    const connected = await this.connectUbus();

    await this.apply('start');
    if (!connected) this.retryUbus();
    if (this.options.watchdog !== false) {
      this.watchdog = new Watchdog(this.platform, { touched: (event) => this.check(event), log: (line) => this.log(line), err: (line) => this.platform.err(line) });
      this.watchdog.start();
    }

    // The interval also keeps the event loop alive when ubus is away.
    this.poller = setInterval(() => void this.pollSessions().catch((e: unknown) => this.platform.err(`vpn-passthrough: sessions: ${errorMessage(e)}`)), (this.options.pollSeconds ?? 10) * 1000);

    const unhup = this.platform.onSignal('SIGHUP', () => void this.apply('SIGHUP'));

    return new Promise((resolve) => {
      const stop = async (signal: string) => {
        if (this.stopping) return;
        this.stopping = true;
        this.log(`vpn-passthrough: ${signal}: stopping (the rules stay loaded until the service is stopped)`);
        unhup();
        this.watchdog?.stop();
        clearTimeout(this.retry);
        clearInterval(this.poller);
        await this.queue;
        this.ubus?.close();
        resolve(0);
      };

      this.platform.onSignal('SIGTERM', () => void stop('SIGTERM'));
      this.platform.onSignal('SIGINT', () => void stop('SIGINT'));
    });
  }
}
