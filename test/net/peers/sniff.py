#!/usr/bin/python3
"""Tells exactly what arrives on one interface: one JSON line per IP packet.

    sniff.py IFACE

An AF_PACKET socket sees each frame as it reaches the device, before any
firewall or socket of the host, so it reports packets nobody listens for
(raw ESP, AH, a UDP port without a daemon) just as well. A probe marks its
payload with "vpt:<tag>;" and the line carries that tag. Prints
{"ready": true} once the socket is bound; runs until killed.
"""

import json
import re
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TAG = re.compile(rb'vpt:([A-Za-z0-9_.:-]{1,80});')
NAMES = {1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'icmpv6'}


def parse(frame):
    ethertype = struct.unpack_from('!H', frame, 12)[0]
    if ethertype == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        proto = frame[23]
        family, src, dst, l4 = 4, socket.inet_ntop(socket.AF_INET, frame[26:30]), socket.inet_ntop(socket.AF_INET, frame[30:34]), 14 + ihl
    elif ethertype == 0x86DD:
        proto = frame[20]  # the first next-header: AH and ESP are reported as themselves
        family, src, dst, l4 = 6, socket.inet_ntop(socket.AF_INET6, frame[22:38]), socket.inet_ntop(socket.AF_INET6, frame[38:54]), 54
    else:
        return None

    p = {'t': time.monotonic(), 'family': family, 'src': src, 'dst': dst, 'proto': NAMES.get(proto, str(proto))}
    if proto in (6, 17) and len(frame) >= l4 + 4:
        p['sport'], p['dport'] = struct.unpack_from('!HH', frame, l4)
    if proto == 6 and len(frame) >= l4 + 14:
        p['flags'] = frame[l4 + 13]
    if proto == 47 and len(frame) >= l4 + 8:
        flags_version, gre_proto = struct.unpack_from('!HH', frame, l4)
        p['gre_version'] = flags_version & 0x7
        if flags_version & 0x7 == 1 and flags_version & 0x2000:
            p['key'] = struct.unpack_from('!H', frame, l4 + 6)[0]  # enhanced GRE: the Call ID
    if proto == 50 and len(frame) >= l4 + 4:
        p['spi'] = struct.unpack_from('!I', frame, l4)[0]
    if proto == 51 and len(frame) >= l4 + 8:
        p['spi'] = struct.unpack_from('!I', frame, l4 + 4)[0]
    m = TAG.search(frame, l4)
    if m:
        p['tag'] = m.group(1).decode()

    return p


def main():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((sys.argv[1], 0))
    print(json.dumps({'ready': True}), flush=True)
    while True:
        frame, addr = s.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        p = parse(frame)
        if p:
            print(json.dumps(p), flush=True)


if __name__ == '__main__':
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
