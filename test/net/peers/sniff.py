#!/usr/bin/python3
"""Tells exactly what arrives on one interface: one JSON line per IP packet.

    sniff.py IFACE

An AF_PACKET socket sees each frame as it reaches the device, before any
firewall or socket of the host, so it reports packets nobody listens for
(raw ESP, AH, a UDP port without a daemon) just as well. A probe marks its
payload with "vpt:<tag>;" and the line carries that tag. Prints
{"ready": true} once the socket is bound; runs until killed.

"t" is when the packet arrived: the kernel's receive timestamp
(SO_TIMESTAMPNS), not when this script got around to reading it, which on
a busy machine can be much later. The kernel stamps on CLOCK_REALTIME; the
line gives it on CLOCK_MONOTONIC, the clock the tests compare with.
"""

import json
import re
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)  # asm-generic/socket.h
TIMESPEC = struct.Struct('@ll')  # struct timespec
TAG = re.compile(rb'vpt:([A-Za-z0-9_.:-]{1,80});')
NAMES = {1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'icmpv6'}


def realtime_offset():
    """CLOCK_REALTIME minus CLOCK_MONOTONIC, read between two monotonic
    readings; of three tries the one least disturbed by preemption."""
    best = None
    for _ in range(3):
        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        real = time.clock_gettime(time.CLOCK_REALTIME)
        after = time.clock_gettime(time.CLOCK_MONOTONIC)
        if best is None or after - before < best[0]:
            best = (after - before, real - (before + after) / 2)
    return best[1]


def arrival(ancdata):
    """The kernel's receive time on the monotonic clock, or None."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= TIMESPEC.size:
            sec, nsec = TIMESPEC.unpack_from(data)
            return sec + nsec / 1e9 - realtime_offset()
    return None


def parse(frame, t):
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

    p = {'t': t, 'family': family, 'src': src, 'dst': dst, 'proto': NAMES.get(proto, str(proto))}
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
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((sys.argv[1], 0))
    print(json.dumps({'ready': True}), flush=True)
    space = socket.CMSG_SPACE(TIMESPEC.size)
    while True:
        frame, ancdata, _flags, addr = s.recvmsg(65535, space)
        if addr[2] == PACKET_OUTGOING:
            continue
        t = arrival(ancdata)
        p = parse(frame, time.monotonic() if t is None else t)
        if p:
            print(json.dumps(p), flush=True)


if __name__ == '__main__':
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
