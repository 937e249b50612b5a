// Drives the vpn-passthrough command in the router namespace, as the owner
// would: a UCI config dir (our file, fw4's firewall config of the fixture
// loaded, a network file mapping lan -> br-lan and wan/wan6 -> eth1), then
// `vpn-passthrough apply --confdir DIR --statedir DIR`.

import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Status } from '../../../firmware/core/model.ts';
import { runCli, type CliResult } from '../../lib/cli.ts';
import { SHARED } from '../../lib/fixtures.ts';
import type { ProtocolName } from './probes.ts';
import type { Topology } from './topology.ts';

export interface ProtocolConfig {
  enabled?: boolean;
  family?: string;
  hosts?: string[];
}

export type PassthroughConfig = { enabled?: boolean; log?: boolean } & Partial<Record<ProtocolName, ProtocolConfig>>;

const PROTOCOLS: ProtocolName[] = ['pptp', 'l2tp', 'ipsec'];
const bool = (b: boolean | undefined) => (b === false ? '0' : '1');

/** /etc/config/vpn-passthrough for a config; protocols not given are enabled, family any. */
export function uci(config: PassthroughConfig = {}): string {
  const lines = ["config globals 'globals'", `\toption enabled '${bool(config.enabled)}'`, `\toption log '${config.log ? 1 : 0}'`, "\tlist lan_zone 'lan'", "\tlist wan_zone 'wan'", ''];

  for (const name of PROTOCOLS) {
    const p = config[name] ?? {};

    lines.push(`config protocol '${name}'`, `\toption enabled '${bool(p.enabled)}'`, `\toption family '${p.family ?? 'any'}'`);
    for (const host of p.hosts ?? []) lines.push(`\tlist host '${host}'`);
    lines.push('');
  }

  return lines.join('\n');
}

/** The lab router's /etc/config/network: the devices, and the inside subnets
 * (what VPN servers behind the router are checked against). */
export const NETWORK = `config interface 'lan'
\toption device 'br-lan'
\toption proto 'static'
\toption ipaddr '192.168.1.1'
\toption netmask '255.255.255.0'
\toption ip6addr 'fd00:ab:cd::1/64'

config interface 'wan'
\toption device 'eth1'
\toption proto 'dhcp'

config interface 'wan6'
\toption device 'eth1'
\toption proto 'dhcpv6'
`;

export class Passthrough {
  readonly confdir: string;
  readonly statedir: string;

  constructor(private readonly topo: Topology) {
    this.confdir = join(topo.dir, 'config');
    this.statedir = join(topo.dir, 'state');
    mkdirSync(this.confdir, { recursive: true });
    writeFileSync(join(this.confdir, 'network'), NETWORK);
    this.useFirewall();
  }

  /** fw4's own config for the fixture the router has loaded. */
  useFirewall(): void {
    copyFileSync(join(SHARED, 'fw4', `${this.topo.fw4.split('.')[0]}.firewall.uci`), join(this.confdir, 'firewall'));
  }

  /** Writes /etc/config/vpn-passthrough: a config, or text as it is. */
  write(config: PassthroughConfig | string): void {
    writeFileSync(join(this.confdir, 'vpn-passthrough'), typeof config === 'string' ? config : uci(config));
  }

  /** `vpn-passthrough <args> --confdir --statedir` in the router. */
  cli(args: readonly string[], env?: NodeJS.ProcessEnv): CliResult {
    return runCli([...args, '--confdir', this.confdir, '--statedir', this.statedir], { netns: this.topo.ns.router, ...(env ? { env } : {}) });
  }

  /** Writes the config and applies it; returns what the command did. */
  apply(config?: PassthroughConfig | string, env?: NodeJS.ProcessEnv): CliResult {
    if (config !== undefined) this.write(config);

    return this.cli(['apply'], env);
  }

  /** Applies and throws with the command's output unless it succeeded. */
  mustApply(config?: PassthroughConfig | string): CliResult {
    const r = this.apply(config);

    if (r.status !== 0) throw new Error(`vpn-passthrough apply failed (${r.status}):\n${r.stderr}${r.stdout}`);

    return r;
  }

  /** `status --json`, parsed. */
  status(): Status {
    const r = this.cli(['status', '--json']);

    if (r.status !== 0) throw new Error(`vpn-passthrough status --json failed (${r.status}): ${r.stderr}`);

    return JSON.parse(r.stdout) as Status;
  }

  /** Our table's rules as the kernel lists them (without counter values or
   * dynamic set elements: traffic changes those), or null when it is not loaded. */
  table(): string | null {
    const r = this.topo.nft(['--stateless', 'list', 'table', 'inet', 'vpn_passthrough']);

    return r.status === 0 ? r.stdout : null;
  }

  /** An environment whose PATH starts with an `nft` that runs the real
   * /usr/sbin/nft but fails every call that would change the kernel (any
   * `-f` without `-c`), as a kernel refusing the transaction would. */
  failingNft(): NodeJS.ProcessEnv {
    const dir = join(this.topo.dir, 'failing-nft');

    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'nft'),
      `#!/bin/sh
check=0; load=0
for a in "$@"; do
\tcase "$a" in -c|--check) check=1 ;; -f|--file) load=1 ;; esac
done
if [ $load = 1 ] && [ $check = 0 ]; then
\techo "Error: Could not process rule: Cannot allocate memory (refused by the test's nft wrapper)" >&2
\texit 1
fi
exec /usr/sbin/nft "$@"
`,
    );
    chmodSync(join(dir, 'nft'), 0o755);

    return { ...process.env, PATH: `${dir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  }
}
