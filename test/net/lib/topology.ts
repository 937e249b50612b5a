// A NAT router in network namespaces, the shape of a home OpenWrt box:
//
//   c1 (192.168.1.20, fd00:ab:cd::20) ─┐
//                                      ├─ br-lan [router] eth1 ─── server
//   c2 (192.168.1.21, fd00:ab:cd::21) ─┘  .1 / ::1    10.0.2.15     10.0.2.2
//                                                    2001:db8:2::15 2001:db8:2::2
//
// The router forwards IPv4 and IPv6 and runs a genuine fw4 ruleset from the
// shared fixtures (which masquerades IPv4 on eth1; IPv6 is routed). The
// server routes the inside IPv6 prefix back through the router. Names carry
// the process id; destroy() (also run on process exit) kills what the test
// bed started and deletes the namespaces.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SHARED } from '../../lib/fixtures.ts';
import { Daemon, execSync, must, type Result } from './proc.ts';

export type Host = 'router' | 'c1' | 'c2' | 'server';
export type Client = 'c1' | 'c2';
export type Family = 4 | 6;

/** The two fw4 fixtures a passthrough must work beside: fw4 attaching the
 * pptp helper itself for lan ingress, and fw4 without it. */
export const FW4 = ['upstream-default', 'upstream-default.pptp-loaded'] as const;
export type Fw4 = (typeof FW4)[number];

export const ADDR = {
  router: { lan: { 4: '192.168.1.1', 6: 'fd00:ab:cd::1' }, wan: { 4: '10.0.2.15', 6: '2001:db8:2::15' } },
  c1: { 4: '192.168.1.20', 6: 'fd00:ab:cd::20' },
  c2: { 4: '192.168.1.21', 6: 'fd00:ab:cd::21' },
  server: { 4: '10.0.2.2', 6: '2001:db8:2::2' },
} as const;

/** Networks that exist only inside VPN tunnels (strongSwan's, xl2tpd's):
 * the router must not reach them in the clear, or a ping would prove nothing. */
export const TUNNEL_NETS = ['10.99.0.0/16', '10.98.0.0/16'];

const PREFIX = 'vpt';
let instances = 0;

/** Namespaces a killed earlier run left behind (its pid is gone): delete them. */
function sweepStale(): void {
  if (!existsSync('/run/netns')) return;
  for (const name of readdirSync('/run/netns')) {
    const m = /^vpt(\d+)x\d+-/.exec(name);

    if (m && !existsSync(`/proc/${m[1]}`)) execSync(['ip', 'netns', 'del', name]);
  }
}

/** fw4's ruleset as fw4 prints it, replacing whatever fw4 table is loaded
 * (create-then-delete, in the same transaction). Its include names the
 * router's /etc/nftables.d, not this machine's: it is left out. */
export function fw4Script(name: Fw4): string {
  const text = readFileSync(join(SHARED, 'fw4', `${name}.fw4-print.nft`), 'utf8');

  return `table inet fw4\ndelete table inet fw4\n${text.replace(/^\s*include "\/etc\/nftables\.d\/\*\.nft"$/m, '')}`;
}

export class Topology {
  readonly id: string;
  readonly ns: Record<Host, string>;
  /** A scratch directory for this test bed (configs, daemon files); removed by destroy(). */
  readonly dir: string;
  fw4: Fw4;
  private readonly daemons = new Set<Daemon>();
  private destroyed = false;
  private readonly onExit = () => this.destroy();

  private constructor(fw4: Fw4) {
    if (process.getuid?.() !== 0) throw new Error('the traffic tests need root (network namespaces, nftables): run make test as root');
    this.id = `${PREFIX}${process.pid}x${instances++}`;
    this.ns = { router: `${this.id}-router`, c1: `${this.id}-c1`, c2: `${this.id}-c2`, server: `${this.id}-server` };
    this.dir = mkdtempSync(join(tmpdir(), `${this.id}-`));
    this.fw4 = fw4;
    process.on('exit', this.onExit);
  }

  /** Builds the namespaces and loads fw4; about 0.1 s. */
  static create(fw4: Fw4 = 'upstream-default'): Topology {
    sweepStale();
    const t = new Topology(fw4);

    try {
      t.build();
      t.loadFw4(fw4);
    } catch (e) {
      t.destroy();
      throw e;
    }

    return t;
  }

  private build(): void {
    const { router, c1, c2, server } = this.ns;
    const batch = (ns: string | null, lines: string[]) => must(execSync(['ip', ...(ns ? ['-n', ns] : []), '-batch', '-'], { input: lines.join('\n') + '\n' }), `ip -batch (${ns ?? 'host'})`);

    batch(null, Object.values(this.ns).map((n) => `netns add ${n}`));
    // Before any device exists: no DAD (a tentative link-local address loses
    // the first IPv6 packets), and TCP Fast Open without cookies, so that a
    // probe's SYN carries its tag (peers/probe.py).
    for (const host of Object.keys(this.ns) as Host[]) {
      const forwarding = host === 'router' ? ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'] : [];

      must(this.exec(host, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv4.tcp_fastopen=5', ...forwarding]), `sysctl in ${host}`);
    }
    batch(router, [
      'link set lo up',
      'link add br-lan type bridge',
      `link add lan1 type veth peer name eth0 netns ${c1}`,
      `link add lan2 type veth peer name eth0 netns ${c2}`,
      `link add eth1 type veth peer name eth0 netns ${server}`,
      'link set lan1 master br-lan',
      'link set lan2 master br-lan',
      ...['lan1', 'lan2', 'br-lan', 'eth1'].map((d) => `link set ${d} up`),
      `addr add ${ADDR.router.lan[4]}/24 dev br-lan`,
      `addr add ${ADDR.router.lan[6]}/64 dev br-lan nodad`,
      `addr add ${ADDR.router.wan[4]}/24 dev eth1`,
      `addr add ${ADDR.router.wan[6]}/64 dev eth1 nodad`,
      `route add default via ${ADDR.server[4]}`,
      `route add ::/0 via ${ADDR.server[6]}`,
      ...TUNNEL_NETS.map((n) => `route add unreachable ${n}`),
    ]);
    for (const c of ['c1', 'c2'] as const) {
      batch(this.ns[c], [
        'link set lo up',
        'link set eth0 up',
        `addr add ${ADDR[c][4]}/24 dev eth0`,
        `addr add ${ADDR[c][6]}/64 dev eth0 nodad`,
        `route add default via ${ADDR.router.lan[4]}`,
        `route add ::/0 via ${ADDR.router.lan[6]}`,
      ]);
    }
    batch(server, [
      'link set lo up',
      'link set eth0 up',
      `addr add ${ADDR.server[4]}/24 dev eth0`,
      `addr add ${ADDR.server[6]}/64 dev eth0 nodad`,
      `route add fd00:ab:cd::/64 via ${ADDR.router.wan[6]}`,
    ]);
  }

  /** Runs argv in a host's namespace (synchronously; 10 s at most). */
  exec(host: Host, argv: readonly string[], input?: string): Result {
    return execSync(argv, { ns: this.ns[host], ...(input === undefined ? {} : { input }) });
  }

  /** Starts a long-running process in a host's namespace; destroy() kills it. */
  daemon(host: Host, label: string, argv: readonly string[], env?: NodeJS.ProcessEnv): Daemon {
    const d = new Daemon(`${label}@${host}`, argv, { ns: this.ns[host], ...(env ? { env } : {}) });

    this.daemons.add(d);
    void d.exited.then(() => this.daemons.delete(d));

    return d;
  }

  sh(host: Host, script: string): Result {
    return this.exec(host, ['sh', '-c', script]);
  }

  nft(args: readonly string[], input?: string): Result {
    return this.exec('router', ['nft', ...args], input);
  }

  /** Replaces the router's fw4 table with a fixture and forgets all conntrack state. */
  loadFw4(name: Fw4): void {
    must(this.nft(['-f', '-'], fw4Script(name)), `loading fw4 ${name}`);
    this.fw4 = name;
    this.flushConntrack();
  }

  /** Every conntrack entry and expectation in the router goes: the next case starts clean. */
  flushConntrack(): void {
    this.exec('router', ['conntrack', '-F']);
    this.exec('router', ['conntrack', '-F', 'expect']);
  }

  /** `conntrack -L` in the router (netlink: shows helper=). */
  conntrack(): string[] {
    return this.exec('router', ['conntrack', '-L']).stdout.split('\n').filter(Boolean);
  }

  /** `conntrack -L expect` in the router. */
  expectations(): string[] {
    return this.exec('router', ['conntrack', '-L', 'expect']).stdout.split('\n').filter(Boolean);
  }

  /** Kills every daemon still running (by PID) and deletes the namespaces. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    for (const d of this.daemons) d.signal('SIGKILL');
    for (const name of Object.values(this.ns)) {
      // Anything else still inside (a process a daemon forked) goes with it.
      for (const pid of execSync(['ip', 'netns', 'pids', name]).stdout.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
      execSync(['ip', 'netns', 'del', name]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
