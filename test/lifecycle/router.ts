// A small OpenWrt root to run our shell scripts in, for real: busybox as
// /bin/sh and every applet (OpenWrt's shell), chroot'ed, with OpenWrt's
// rc.common, procd.sh and functions.sh replaced by the test doubles in
// doubles/ and the commands the scripts call (nft, logger, uci, tjs, rpcd)
// by a recording stand-in. firewall4 is there too, not running: its init
// script and fw4 are doubles (doubles/firewall, doubles/fw4) rendering what
// our package scripts look at, with fw4's real state files (fixtures/fw4-state).
// Each call lands in /var/log/calls.

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { OWN, SHARED } from '../lib/fixtures.ts';

const DOUBLES = join(process.cwd(), 'test/lifecycle/doubles');
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** The shared libraries a dynamic busybox needs inside the chroot. */
function libraries(binary: string): string[] {
  const out = spawnSync('ldd', [binary], { encoding: 'utf8' }).stdout ?? '';

  return [...out.matchAll(/(\/\S+\.so[^\s]*)/g)].map((m) => m[1]!);
}

export class Router {
  readonly root: string;

  constructor(options: { tjs?: boolean; firewall4?: boolean } = {}) {
    if (process.getuid?.() !== 0) throw new Error('the life-cycle tests chroot into a small OpenWrt root: run them as root');
    if (!BUSYBOX) throw new Error('busybox is missing: make test-tools installs it');

    this.root = mkdtempSync(join(tmpdir(), `vpnpt-router-${process.pid}-`));
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'lib/functions', 'etc/init.d', 'etc/rc.d', 'etc/config', 'etc/uci-defaults', 'etc/uci-show', 'usr/lib/opkg/info', 'tmp', 'var/run', 'var/log', 'var/lock', 'var/state']) {
      mkdirSync(join(this.root, dir), { recursive: true });
    }
    chmodSync(join(this.root, 'tmp'), 0o1777);
    mkdirSync(join(this.root, 'dev'));
    if (spawnSync('mknod', ['-m', '666', join(this.root, 'dev/null'), 'c', '1', '3']).status !== 0) throw new Error('mknod dev/null failed');

    copyFileSync(BUSYBOX, join(this.root, 'bin/busybox'));
    for (const lib of libraries(BUSYBOX)) {
      mkdirSync(join(this.root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(this.root, lib));
    }
    for (const applet of this.sh('/bin/busybox --list', { raw: true }).stdout.split('\n').filter(Boolean)) {
      if (applet !== 'busybox' && !existsSync(join(this.root, 'bin', applet))) symlinkSync('busybox', join(this.root, 'bin', applet));
    }

    this.install('/etc/rc.common', join(DOUBLES, 'rc.common'), 0o755);
    this.install('/lib/functions.sh', join(DOUBLES, 'functions.sh'), 0o644);
    this.install('/lib/functions/procd.sh', join(DOUBLES, 'procd.sh'), 0o644);
    for (const cmd of ['/usr/sbin/nft', '/usr/bin/logger', '/sbin/uci', '/etc/init.d/rpcd', ...(options.tjs === false ? [] : ['/usr/bin/tjs'])]) {
      this.install(cmd, join(DOUBLES, 'record'), 0o755);
    }
    if (options.firewall4 !== false) {
      this.install('/etc/init.d/firewall', join(DOUBLES, 'firewall'), 0o755);
      this.install('/sbin/fw4', join(DOUBLES, 'fw4'), 0o755);
      for (const state of ['loaded', 'with-vpn-passthrough']) this.install(`/etc/fw4-state/${state}.json`, join(OWN, 'fw4-state', `${state}.json`), 0o644);
    }
    // `uci show firewall` of a real libuci: lan (network lan), wan (wan wan6).
    this.install('/etc/uci-show/firewall', join(SHARED, 'uci/firewall.show.txt'), 0o644);
    this.write('/etc/uci-show/vpn-passthrough', "vpn-passthrough.globals=globals\nvpn-passthrough.globals.lan_zone='lan'\nvpn-passthrough.globals.wan_zone='wan'\n");
    this.write('/var/log/calls', '');
  }

  path(p: string): string {
    return join(this.root, p);
  }

  install(to: string, from: string, mode: number): void {
    mkdirSync(dirname(this.path(to)), { recursive: true });
    copyFileSync(from, this.path(to));
    chmodSync(this.path(to), mode);
  }

  write(path: string, data: string | Buffer, mode = 0o644): void {
    mkdirSync(dirname(this.path(path)), { recursive: true });
    writeFileSync(this.path(path), data);
    chmodSync(this.path(path), mode);
  }

  read(path: string): string {
    return readFileSync(this.path(path), 'utf8');
  }

  exists(path: string): boolean {
    try {
      lstatSync(this.path(path));

      return true;
    } catch {
      return false;
    }
  }

  mode(path: string): number {
    return lstatSync(this.path(path)).mode & 0o7777;
  }

  /** Runs a shell command line inside the root, as a router would: /bin/sh is busybox. */
  sh(script: string, options: { env?: Record<string, string>; raw?: boolean } = {}): Run {
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/', ...options.env };
    const r = spawnSync('chroot', [this.root, '/bin/busybox', 'sh', '-c', script], { encoding: 'utf8', env, timeout: 30_000 });

    if (r.error) throw r.error;

    return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  }

  /** The recorded calls since the last take, each as [command, ...args]. */
  takeCalls(): string[][] {
    const calls = this.read('/var/log/calls').split('\n').filter(Boolean).map((l) => l.split('\t'));

    this.write('/var/log/calls', '');

    return calls;
  }

  /** Every file and symlink in the root outside the test's own machinery. */
  files(): string[] {
    return this.walk().filter((e) => !e.dir).map((e) => e.path);
  }

  /** Every directory in the root outside the test's own machinery. */
  dirs(): string[] {
    return this.walk().filter((e) => e.dir).map((e) => e.path);
  }

  private walk(): { path: string; dir: boolean }[] {
    const out: { path: string; dir: boolean }[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(this.path(dir))) {
        const rel = `${dir}/${name}`;
        const st = lstatSync(this.path(rel));

        out.push({ path: rel, dir: st.isDirectory() });
        if (st.isDirectory()) walk(rel);
      }
    };

    walk('');

    return out
      .filter((e) => !/^\/(bin|dev|lib64|lib\/x86_64-linux-gnu|usr\/lib\/x86_64-linux-gnu|var\/log\/calls)(\/|$)/.test(e.path))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  destroy(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Calls of one command, e.g. calls(list, 'nft'). */
export function callsOf(calls: string[][], command: string): string[][] {
  return calls.filter((c) => c[0] === command);
}
