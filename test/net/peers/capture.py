#!/usr/bin/python3
"""Records the payloads of VPN opening exchanges as they cross one interface,
both directions: one JSON line per TCP segment or UDP datagram with data.

    capture.py IFACE

Only TCP 1723 and UDP 500, 1701 and 4500 are kept (either port). "out" is a
packet the host sends on IFACE, "in" one it receives. Prints {"ready": true}
once the socket is bound; runs until killed. test/net/record-probe.ts turns
the lines into test/fixtures/probe/*.txt.
"""

import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
PORTS = {500, 1701, 1723, 4500}


def parse(frame):
    ethertype = struct.unpack_from('!H', frame, 12)[0]
    if ethertype == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        total = struct.unpack_from('!H', frame, 16)[0]
        proto, src, dst, l4, end = frame[23], socket.inet_ntop(socket.AF_INET, frame[26:30]), socket.inet_ntop(socket.AF_INET, frame[30:34]), 14 + ihl, 14 + total
    elif ethertype == 0x86DD:
        length = struct.unpack_from('!H', frame, 18)[0]
        proto, src, dst, l4, end = frame[20], socket.inet_ntop(socket.AF_INET6, frame[22:38]), socket.inet_ntop(socket.AF_INET6, frame[38:54]), 54, 54 + length
    else:
        return None
    if proto == 17:
        sport, dport = struct.unpack_from('!HH', frame, l4)
        data = frame[l4 + 8:end]
    elif proto == 6:
        sport, dport = struct.unpack_from('!HH', frame, l4)
        data = frame[l4 + (frame[l4 + 12] >> 4) * 4:end]
    else:
        return None
    if not data or not ({sport, dport} & PORTS):
        return None

    return {'t': time.monotonic(), 'proto': 'udp' if proto == 17 else 'tcp', 'src': src, 'dst': dst, 'sport': sport, 'dport': dport, 'data': data.hex()}


def main():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((sys.argv[1], 0))
    print(json.dumps({'ready': True}), flush=True)
    while True:
        frame, addr = s.recvfrom(65535)
        p = parse(frame)
        if p:
            p['dir'] = 'out' if addr[2] == PACKET_OUTGOING else 'in'
            print(json.dumps(p), flush=True)


if __name__ == '__main__':
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
