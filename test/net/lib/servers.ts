// The lab for VPN servers behind the router: an inside host (c1) runs the
// server, outside hosts connect to the router's outside address.
//
// firewall4 with our include files rendered in: fw4 includes
// /usr/share/nftables.d/chain-pre/forward/*.nft and table-post/*.nft into the
// ruleset it prints (fw4.uc: includes('chain-prepend', 'forward') puts
// `\t\tinclude "<file>"` right before the forward chain's ct state vmap;
// includes('table-append') puts `\n\tinclude "<file>"` before the table's
// closing brace). fw4Hooked() does exactly that to a genuine `fw4 print`
// fixture, naming the repository's include files; the table-post file's
// glob is the one thing rewritten: it names this bed's state directory
// instead of /var/run/vpn-passthrough.
//
// A second outside host, out2 (10.0.3.2, 2001:db8:3::2), sits behind the
// outside host "server", which routes for it: an allow list can let one
// outside host in and keep the other out.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { Daemon, exec, execSync, must, PYTHON, sleep, type Result } from './proc.ts';
import { newTag, type Probe, type Sniffer } from './probes.ts';
import { INNER, initiatorConf, responderConf, startCharon, strongswanConf, type Charon } from './strongswan.ts';
import { ADDR, fw4Script, type Fw4, type Host, type Topology } from './topology.ts';

export const INCLUDES = {
  chainPre: resolve('files/usr/share/nftables.d/chain-pre/forward/30-vpn-passthrough.nft'),
  tablePost: resolve('files/usr/share/nftables.d/table-post/30-vpn-passthrough.nft'),
};

export const OUT2 = { 4: '10.0.3.2', 6: '2001:db8:3::2' } as const;
export const WAN = ADDR.router.wan;

/** fw4's ruleset as fw4 prints it with our automatic includes installed. */
export function fw4Hooked(name: Fw4, dir: string, statedir: string): string {
  const tablePost = join(dir, 'nftables.d', 'table-post', '30-vpn-passthrough.nft');
  const original = readFileSync(INCLUDES.tablePost, 'utf8');

  if (!original.includes('"/var/run/vpn-passthrough/fw4/*.nft"')) throw new Error(`${INCLUDES.tablePost} no longer includes /var/run/vpn-passthrough/fw4/*.nft`);
  mkdirSync(join(dir, 'nftables.d', 'table-post'), { recursive: true });
  writeFileSync(tablePost, original.replace('/var/run/vpn-passthrough/fw4/', `${statedir}/fw4/`));

  const text = fw4Script(name);
  const forward = /(\tchain forward \{\n\t\ttype filter hook forward [^\n]*\n\n)(\t\tct state vmap)/;
  const end = /\n\}\n$/;

  if (!forward.test(text) || !end.test(text)) throw new Error(`fw4 fixture ${name} does not have the shape fw4's template gives`);

  return text.replace(forward, `$1\t\tinclude "${INCLUDES.chainPre}"\n$2`).replace(end, `\n\n\tinclude "${tablePost}"\n}\n`);
}

/** Loads fw4 with our includes (a fw4 start or reload after install); conntrack flushed. */
export function loadFw4Hooked(topo: Topology, name: Fw4, statedir: string): void {
  must(topo.nft(['-f', '-'], fw4Hooked(name, topo.dir, statedir)), `loading fw4 ${name} with our includes`);
  topo.fw4 = name;
  topo.flushConntrack();
}

/** /etc/config/network with the inside subnets a server is checked against. */
export { NETWORK } from './passthrough.ts';

export interface ServerSection {
  name: string;
  protocol: 'pptp' | 'l2tp' | 'ipsec';
  enabled?: boolean;
  host?: string;
  host6?: string;
  allow?: string[];
}

export function serverUci(servers: ServerSection[]): string {
  return servers
    .map((s) => [
      `config server '${s.name}'`,
      `\toption enabled '${s.enabled === false ? 0 : 1}'`,
      `\toption protocol '${s.protocol}'`,
      ...(s.host ? [`\toption host '${s.host}'`] : []),
      ...(s.host6 ? [`\toption host6 '${s.host6}'`] : []),
      ...(s.allow ?? []).map((a) => `\tlist allow '${a}'`),
      '',
    ].join('\n'))
    .join('\n');
}

/** The second outside host, routed through "server". */
export class Out2 {
  readonly ns: string;
  private readonly daemons: Daemon[] = [];

  constructor(topo: Topology) {
    this.ns = `${topo.id}-out2`;
    const server = topo.ns.server;

    must(execSync(['ip', 'netns', 'add', this.ns]), 'netns add out2');
    must(this.exec(['sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv4.tcp_fastopen=5']), 'sysctl out2');
    must(topo.exec('server', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']), 'forwarding in server');
    must(execSync(['ip', '-n', server, '-batch', '-'], {
      input: [`link add eth1 type veth peer name eth0 netns ${this.ns}`, 'link set eth1 up', 'addr add 10.0.3.1/24 dev eth1', 'addr add 2001:db8:3::1/64 dev eth1 nodad', ''].join('\n'),
    }), 'out2 link in server');
    must(execSync(['ip', '-n', this.ns, '-batch', '-'], {
      input: ['link set lo up', 'link set eth0 up', `addr add ${OUT2[4]}/24 dev eth0`, `addr add ${OUT2[6]}/64 dev eth0 nodad`, 'route add default via 10.0.3.1', 'route add ::/0 via 2001:db8:3::1', ''].join('\n'),
    }), 'out2 addresses');
  }

  exec(argv: readonly string[], input?: string): Result {
    return execSync(argv, { ns: this.ns, ...(input === undefined ? {} : { input }) });
  }

  daemon(label: string, argv: readonly string[], env?: NodeJS.ProcessEnv): Daemon {
    const d = new Daemon(`${label}@out2`, argv, { ns: this.ns, ...(env ? { env } : {}) });

    this.daemons.push(d);

    return d;
  }

  destroy(): void {
    for (const d of this.daemons) d.signal('SIGKILL');
    for (const pid of execSync(['ip', 'netns', 'pids', this.ns]).stdout.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    execSync(['ip', 'netns', 'del', this.ns]);
  }
}

const PEERS = resolve('test/net/peers');

/** Sends probes from an outside host (by namespace), then an IPv6 ping to
 * c1 as the barrier (fw4 forwards ICMPv6 echo to lan; it comes the same way,
 * after the probes); returns the packets the sniffer on c1 saw per probe. */
export async function probeInbound(ns: string, sniffer: Sniffer, probes: Probe[]): Promise<Map<string, { src: string; dst: string; proto: string }[]>> {
  const barrier = { kind: 'icmp' as const, dst: ADDR.c1[6], tag: newTag('barrier-in') };

  must(await exec([PYTHON, `${PEERS}/probe.py`, JSON.stringify([...probes, barrier])], { ns, timeoutMs: 5000 }), `probe.py in ${ns}`);
  if (!(await sniffer.waitTag(barrier.tag, 2000))) throw new Error(`the barrier ping ${ns} -> c1 never arrived: the test bed itself is broken`);
  await sleep(30);

  return new Map(probes.map((p) => [p.tag, sniffer.tagged(p.tag)]));
}

/** One probe per member of the IPsec set (and UDP 1701, TCP 1723, GRE when asked), to an address. */
export function memberProbes(dst: string, label: string, members: readonly string[]): Probe[] {
  return members.map((m) => {
    const [kind, port] = m.split('/') as [Probe['kind'], string | undefined];

    return { kind, dst, tag: newTag(`${label}-${m}`), ...(port ? { port: Number(port) } : {}), ...(kind === 'tcp' ? { timeout: 0 } : {}), ...(kind === 'gre' ? { key: 0x77 } : {}) };
  });
}

// ---------------------------------------------------------------- strongSwan

/** The inside server's own inner network (on c1's lo), reachable only through its tunnel. */
export const HOME_INNER = '10.99.2.1';

/** An IKEv2 responder on an inside host: PSK, a pool, HOME_INNER behind it. */
export async function homeResponder(topo: Topology, host: Host = 'c1'): Promise<Charon> {
  topo.exec(host, ['ip', 'addr', 'replace', `${HOME_INNER}/32`, 'dev', 'lo']);
  const addrs = host === 'c1' || host === 'c2' ? `${ADDR[host][4]}, ${ADDR[host][6]}` : '%any';

  return startCharon(topo, host, responderConf({ name: 'home', id: 'home', localAddrs: addrs, innerNet: '10.99.2.0/24', pool: '10.99.3.0/24', poolName: 'homevips' }));
}

/** An initiator outside, connecting to `remote` (the router's outside address, or host6). */
export function outsideInitiator(topo: Topology, remote: string): Promise<Charon> {
  return startCharon(topo, 'server', initiatorConf({ remote, id: 'roadwarrior', serverId: 'home', innerNet: '10.99.2.0/24' }));
}

/** Pings HOME_INNER from the outside host: only the tunnel leads there. */
export async function homePing(topo: Topology, count = 3): Promise<{ received: number; output: string }> {
  const r = await exec(['ping', '-n', '-c', String(count), '-i', '0.05', '-W', '1', HOME_INNER], { ns: topo.ns.server, timeoutMs: 5000 });
  const m = /(\d+) received/.exec(r.stdout);

  return { received: m ? Number(m[1]) : 0, output: r.stdout + r.stderr };
}

// ---------------------------------------------------------------- xl2tpd

let l2tps = 0;

function xl2tpd(topo: Topology, host: Host, conf: string): Daemon {
  const dir = join(topo.dir, `xl2tpd-srv-${host}-${l2tps++}`);

  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'xl2tpd.conf'), conf);
  writeFileSync(join(dir, 'l2tp-secrets'), '');

  return topo.daemon(host, 'xl2tpd', ['xl2tpd', '-D', '-c', join(dir, 'xl2tpd.conf'), '-s', join(dir, 'l2tp-secrets'), '-p', join(dir, 'pid'), '-C', join(dir, 'control')]);
}

/** An LNS on the inside host c1. */
export async function insideLns(topo: Topology): Promise<Daemon> {
  const d = xl2tpd(topo, 'c1', `[global]\nlisten-addr = ${ADDR.c1[4]}\nport = 1701\n\n[lns default]\nip range = 10.98.2.10-10.98.2.20\nlocal ip = 10.98.2.1\nrequire authentication = no\nlength bit = yes\n`);

  if (!(await d.waitFor((l) => /Listening on IP address/.test(l.text), 3000))) throw new Error(`xl2tpd LNS did not start: ${d.text()}`);

  return d;
}

/** A LAC outside that dials the router's outside address once. */
export function outsideLac(topo: Topology): Daemon {
  return xl2tpd(topo, 'server', `[global]\nport = 1701\n\n[lac vpn]\nlns = ${WAN[4]}\nautodial = yes\nredial = no\nlength bit = yes\n`);
}

// ------------------------------------------- an outside IPsec server on out2

/** strongSwan's charon in out2 (what startCharon does for the bed's own hosts). */
async function charonInOut2(topo: Topology, out2: Out2, swanctlConf: string): Promise<Charon> {
  const dir = join(topo.dir, `charon-out2-${l2tps++}`);
  const uri = `unix://${dir}/charon.vici`;

  mkdirSync(join(dir, 'run'), { recursive: true });
  writeFileSync(join(dir, 'strongswan.conf'), strongswanConf(dir));
  writeFileSync(join(dir, 'swanctl.conf'), swanctlConf);
  const daemon = out2.daemon('charon', ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${dir}/run /run && exec /usr/lib/ipsec/charon`], { ...process.env, STRONGSWAN_CONF: join(dir, 'strongswan.conf') });
  const swanctl = (args: readonly string[], timeoutMs = 5000) => exec(['swanctl', ...args, '--uri', uri], { timeoutMs });

  for (let i = 0; !existsSync(join(dir, 'charon.vici')); i++) {
    if (i > 300 || !daemon.running) throw new Error(`charon in out2 did not start: ${daemon.text()}`);
    await sleep(10);
  }
  const loaded = await swanctl(['--load-all', '--file', join(dir, 'swanctl.conf')]);

  if (loaded.status !== 0) throw new Error(`swanctl --load-all in out2: ${loaded.stdout}${loaded.stderr}`);

  return { host: 'server', daemon, swanctl, stop: () => daemon.stop() };
}

/** An IKEv2 responder on out2 (INNER on its lo), for an inside client's passthrough. */
export async function out2Responder(topo: Topology, out2: Out2): Promise<Charon> {
  out2.exec(['ip', 'addr', 'replace', `${INNER}/32`, 'dev', 'lo']);

  return charonInOut2(topo, out2, responderConf({ name: 'rw', id: 'server', localAddrs: OUT2[4], innerNet: '10.99.0.0/24', pool: '10.99.1.0/24', poolName: 'vips' }));
}

/** An inside client (c2) of out2's IPsec server: passthrough. */
export function c2ToOut2(topo: Topology): Promise<Charon> {
  return startCharon(topo, 'c2', initiatorConf({ remote: OUT2[4], id: 'c2', serverId: 'server', innerNet: '10.99.0.0/24' }));
}
