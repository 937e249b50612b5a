// With firewall4's flow offloading on, an established UDP flow (IKE, NAT-T,
// L2TP) leaves the forward hook for the flowtable, so a new drop rule never
// sees it. Deleting its conntrack entry tears the offloaded flow down; its
// next packet then meets our rules. TCP 1723 carries a helper, and GRE, ESP
// and AH are not offloaded, so UDP is all there is to cut.

import { warning, type Diagnostic } from '../core/diag.ts';
import { MATCHES, type Plan } from '../core/plan.ts';
import { errorCode, type Platform } from '../platform/platform.ts';

export async function cutOffloadedFlows(platform: Platform, plan: Plan): Promise<Diagnostic[]> {
  const dropped = plan.protocols.filter((p) => !plan.table || p.outbound === 'drop');
  const ports = dropped.flatMap((p) => MATCHES[p.name].udp);

  for (const port of ports) {
    try {
      // Exit status 1 means "nothing to delete", which is fine.
      await platform.run(['conntrack', '-D', '-p', 'udp', '--orig-port-dst', String(port)]);
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') throw e;

      return [
        warning('offload_needs_conntrack', `firewall4 flow offloading is on: established ${dropped.map((p) => p.name).join(', ')} flows keep passing until they go idle; install the 'conntrack' package so vpn-passthrough can cut them at once`, 'firewall.@defaults[0].flow_offloading', '1'),
      ];
    }
  }

  return [];
}
