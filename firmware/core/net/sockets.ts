// The router's own sockets, from /proc/net/{tcp,tcp6,udp,udp6}: which local
// ports a program on the router holds (a strongSwan, xl2tpd or pptpd of its
// own). A forwarded VPN server takes those ports on the outside address, so
// the two cannot both work. The kernel prints addresses as the hex of their
// 32-bit words in host order (little-endian on every OpenWrt target we know
// of, and on the test machines).

import { formatIPv4, formatIPv6 } from './addr.ts';

export interface Socket {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  /** The local address, normalized ('0.0.0.0' or '::' for any). */
  address: string;
  port: number;
  /** TCP: listening; UDP: always true (a bound UDP socket receives). */
  listening: boolean;
  inode: number;
}

const TCP_LISTEN = 0x0a;

/** Hex of one 32-bit word in little-endian host order → its 4 bytes in network order. */
function word(hex: string): number[] {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function address(hex: string): { family: 4 | 6; text: string } | null {
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return null;
  if (hex.length === 8) return { family: 4, text: formatIPv4(word(hex)) };
  if (hex.length === 32) return { family: 6, text: formatIPv6([0, 8, 16, 24].flatMap((i) => word(hex.slice(i, i + 8)))) };

  return null;
}

/** One /proc/net/<proto>[6] file's text → its sockets (the header line and
 * anything unreadable are skipped). */
export function parseProcNet(text: string, proto: 'tcp' | 'udp'): Socket[] {
  const sockets: Socket[] = [];

  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);

    if (f.length < 10) continue;
    const [addrHex, portHex] = f[1]!.split(':');
    const local = address(addrHex ?? '');
    const port = parseInt(portHex ?? '', 16);
    const state = parseInt(f[3]!, 16);
    const inode = Number(f[9]);

    if (!local || !(port >= 0) || !Number.isFinite(inode)) continue;
    sockets.push({ proto, family: local.family, address: local.text, port, listening: proto === 'udp' || state === TCP_LISTEN, inode });
  }

  return sockets;
}
