// Real IKEv2 peers: strongSwan's charon, one instance per namespace, ESP in
// userspace (kernel-libipsec: this kernel has no ESP), which always uses
// NAT-T (ESP in UDP 4500). Each instance gets a private /run (charon insists
// on /var/run/charon.pid) and its own vici socket. Retransmits are short, so
// a blocked tunnel reports "not established" in about 1.5 s.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { exec, now, sleep, type Daemon, type Result } from './proc.ts';
import { ADDR, type Client, type Family, type Host, type Topology } from './topology.ts';

/** The server's inside address (on its lo), reachable only through a tunnel. */
export const INNER = '10.99.0.1';
const POOL = '10.99.1.0/24';
const PSK = 'vpn-passthrough-test';
let instances = 0;

export interface Charon {
  host: Host;
  daemon: Daemon;
  swanctl(args: readonly string[], timeoutMs?: number): Promise<Result>;
  stop(): Promise<void>;
}

export function strongswanConf(dir: string): string {
  return `charon {
  # kernel-libipsec before kernel-netlink: ESP in userspace, the kernel has none
  load = random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici
  retransmit_tries = 2
  retransmit_timeout = 0.3
  retransmit_base = 1.5
  filelog {
    stderr {
      default = 1
    }
  }
  plugins {
    vici {
      socket = unix://${dir}/charon.vici
    }
  }
}
`;
}

export async function startCharon(topo: Topology, host: Host, swanctlConf: string): Promise<Charon> {
  const dir = join(topo.dir, `charon-${host}-${instances++}`);
  const uri = `unix://${dir}/charon.vici`;

  mkdirSync(join(dir, 'run'), { recursive: true });
  writeFileSync(join(dir, 'strongswan.conf'), strongswanConf(dir));
  writeFileSync(join(dir, 'swanctl.conf'), swanctlConf);

  const daemon = topo.daemon(host, 'charon', ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${dir}/run /run && exec /usr/lib/ipsec/charon`], { ...process.env, STRONGSWAN_CONF: join(dir, 'strongswan.conf') });
  const swanctl = (args: readonly string[], timeoutMs = 5000) => exec(['swanctl', ...args, '--uri', uri], { timeoutMs });

  // The socket file appears when charon binds it, a moment before it
  // listens: on a busy machine that moment can be long, so retry a refusal.
  const ready = now() + 15_000;
  let loaded: Result | undefined;

  while (!loaded || (loaded.status !== 0 && /Connection refused|No such file/.test(loaded.stdout + loaded.stderr) && now() < ready)) {
    if (!daemon.running) throw new Error(`charon on ${host} did not start: ${daemon.text()}`);
    if (loaded) await sleep(20);
    loaded = existsSync(join(dir, 'charon.vici')) ? await swanctl(['--load-all', '--file', join(dir, 'swanctl.conf')]) : { status: 1, stdout: '', stderr: 'No such file (the vici socket, yet)' };
  }
  if (loaded.status !== 0) {
    await daemon.stop();
    throw new Error(`swanctl --load-all on ${host}: ${loaded.stdout}${loaded.stderr}`);
  }

  return { host, daemon, swanctl, stop: () => daemon.stop() };
}

const secrets = `secrets {
  ike {
    secret = ${PSK}
  }
}
`;

/** swanctl.conf of an IKEv2 PSK responder: virtual IPs from `pool`, `innerNet` behind it. */
export function responderConf(o: { name: string; id: string; localAddrs: string; innerNet: string; pool: string; poolName: string }): string {
  return `connections {
  ${o.name} {
    local_addrs = ${o.localAddrs}
    pools = ${o.poolName}
    local {
      auth = psk
      id = ${o.id}
    }
    remote {
      auth = psk
    }
    children {
      ${o.name} {
        local_ts = ${o.innerNet}
        esp_proposals = aes128-sha256
      }
    }
  }
}
pools {
  ${o.poolName} {
    addrs = ${o.pool}
  }
}
${secrets}`;
}

/** swanctl.conf of an initiator (connection and child `vpn`) asking for a virtual IP, tunnelling to `innerNet`. */
export function initiatorConf(o: { remote: string; id: string; serverId: string; innerNet: string }): string {
  return `connections {
  vpn {
    remote_addrs = ${o.remote}
    vips = 0.0.0.0
    local {
      auth = psk
      id = ${o.id}
    }
    remote {
      auth = psk
      id = ${o.serverId}
    }
    children {
      vpn {
        remote_ts = ${o.innerNet}
        esp_proposals = aes128-sha256
      }
    }
  }
}
${secrets}`;
}

/** The responder: PSK, a pool of virtual IPs, the inner network behind it. */
export async function ipsecServer(topo: Topology): Promise<Charon> {
  topo.exec('server', ['ip', 'addr', 'replace', `${INNER}/32`, 'dev', 'lo']);

  return startCharon(topo, 'server', responderConf({ name: 'rw', id: 'server', localAddrs: `${ADDR.server[4]}, ${ADDR.server[6]}`, innerNet: '10.99.0.0/24', pool: POOL, poolName: 'vips' }));
}

/** An initiator in an inside client, asking for a virtual IP; over IPv4 or IPv6. */
export function ipsecClient(topo: Topology, client: Client, family: Family = 4): Promise<Charon> {
  return startCharon(topo, client, initiatorConf({ remote: ADDR.server[family], id: client, serverId: 'server', innerNet: '10.99.0.0/24' }));
}

export interface Initiated {
  established: boolean;
  ms: number;
  output: string;
}

/** Brings the tunnel up (IKE_SA + CHILD_SA); gives up with charon's retransmits. */
export async function initiate(c: Charon): Promise<Initiated> {
  const started = Date.now();
  const r = await c.swanctl(['--initiate', '--child', 'vpn', '--timeout', '5'], 8000);
  const output = r.stdout + r.stderr;

  return { established: r.status === 0 && /initiate completed successfully/.test(output) && /CHILD_SA vpn\{\d+\} established/.test(output), ms: Date.now() - started, output };
}

/** Pings the server's inner address from a client: only the tunnel leads there. */
export async function tunnelPing(topo: Topology, client: Client, count = 3): Promise<{ received: number; output: string }> {
  const r = await exec(['ping', '-n', '-c', String(count), '-i', '0.05', '-W', '1', INNER], { ns: topo.ns[client], timeoutMs: 5000 });
  const m = /(\d+) received/.exec(r.stdout);

  return { received: m ? Number(m[1]) : 0, output: r.stdout + r.stderr };
}
