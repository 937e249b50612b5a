#!/usr/bin/python3
"""Sends tagged probe packets; sniff.py on the far side tells which arrived.

    probe.py '[{"kind": "udp", "dst": "10.0.2.2", "port": 500, "tag": "a"}, ...]'

kind is udp, tcp, esp, ah, gre or icmp (an echo request). Optional fields:
sport (udp), key (gre Call ID), spi (esp, ah), next (ah: 59 "no next
header", the default, or 17 for a UDP datagram as in transport mode),
count and every (ms) to repeat a packet. The payload is "vpt:<tag>;" (with
".<n>" appended when count is above 1). The probes go out in the order
given, in one process, so a last probe that is known to pass serves as a
barrier for the ones before it.

tcp probes send their SYN (carrying the tag, by TCP Fast Open) without
waiting; at the end they all get up to "timeout" seconds (default 0.5)
together and report "connected", "refused" (the SYN got through, a RST came
back) or "timeout". Prints one JSON line per probe, in order.
"""

import errno
import json
import random
import select
import socket
import struct
import sys
import time

PROTO = {'esp': 50, 'ah': 51, 'gre': 47}
ICMP = {socket.AF_INET: (socket.IPPROTO_ICMP, 8), socket.AF_INET6: (socket.IPPROTO_ICMPV6, 128)}


def payload(tag, i, count):
    return ('vpt:%s;' % (tag if count == 1 else '%s.%d' % (tag, i))).encode()


def checksum(data):
    data += bytes(len(data) % 2)
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total & 0xFFFF) + (total >> 16)
    total += total >> 16

    return ~total & 0xFFFF


def packet(p, i, data):
    if p['kind'] == 'icmp':
        # echo request; the kernel fills in the ICMPv6 checksum, ICMP's is ours
        kind = 128 if ':' in p['dst'] else 8
        head = struct.pack('!BBHHH', kind, 0, 0, p['id'], i + 1)
        if kind == 8:
            head = head[:2] + struct.pack('!H', checksum(head + data)) + head[4:]
        return head + data
    if p['kind'] == 'esp':
        return struct.pack('!II', p.get('spi', 0x7E570001), i + 1) + data
    if p['kind'] == 'ah':
        # next header 59 (none) unless "next": 17 asks for a UDP datagram
        # (transport mode); length in 32-bit words minus 2 (24 bytes: 4); a zero 12-byte ICV
        if p.get('next') == 17:
            data = struct.pack('!HHHH', 40000, 40001, 8 + len(data), 0) + data
        return struct.pack('!BBHII', p.get('next', 59), 4, 0, p.get('spi', 0x7E570001), i + 1) + bytes(12) + data
    if p['kind'] == 'gre':
        # enhanced GRE (RFC 2637 4.1): K and S bits, version 1, PPP protocol 0x880B
        return struct.pack('!HHHHI', 0x3001, 0x880B, len(data), p.get('key', 0), i + 1) + data

    return data


def send(p):
    af = socket.AF_INET6 if ':' in p['dst'] else socket.AF_INET
    if p['kind'] == 'tcp':
        # TCP Fast Open without a cookie (the namespace's net.ipv4.tcp_fastopen
        # has 0x4 set) puts the tag in the SYN itself, so the SYN is tagged
        s = socket.socket(af, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.sendto(payload(p['tag'], 0, 1), socket.MSG_FASTOPEN, (p['dst'], p['port']))
        except BlockingIOError:
            pass
        return s
    if p['kind'] == 'udp':
        s = socket.socket(af, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('::' if af == socket.AF_INET6 else '0.0.0.0', p.get('sport', 0)))
        address = (p['dst'], p['port'])
    else:
        s = socket.socket(af, socket.SOCK_RAW, ICMP[af][0] if p['kind'] == 'icmp' else PROTO[p['kind']])
        address = (p['dst'], 0)
    count = p.get('count', 1)
    for i in range(count):
        s.sendto(packet(p, i, payload(p['tag'], i, count)), address)
        if i + 1 < count:
            time.sleep(p.get('every', 10) / 1000)
    s.close()

    return None


def settle(pending, timeout):
    """Waits for the tcp probes together; returns {index: outcome}."""
    outcome = {}
    deadline = time.monotonic() + timeout
    while len(outcome) < len(pending) and time.monotonic() < deadline:
        waiting = [s for i, s in pending.items() if i not in outcome]
        for s in select.select([], waiting, [], deadline - time.monotonic())[1]:
            i = next(i for i, t in pending.items() if t is s)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            outcome[i] = 'connected' if err == 0 else 'refused' if err == errno.ECONNREFUSED else errno.errorcode.get(err, str(err))

    return outcome


def main():
    probes = json.loads(sys.argv[1])
    for p in probes:
        # A fresh echo id each: two clients pinging one server with the same
        # id at the same moment race in the NAT and one packet is lost.
        p.setdefault('id', random.randrange(1, 0x10000))
    pending = {}
    for i, p in enumerate(probes):
        s = send(p)
        if s:
            pending[i] = s
    outcome = settle(pending, max([p.get('timeout', 0.5) for p in probes if p['kind'] == 'tcp'] or [0]))
    for i, p in enumerate(probes):
        result = {'kind': p['kind'], 'dst': p['dst'], 'tag': p['tag']}
        if i in pending:
            result['tcp'] = outcome.get(i, 'timeout')
            pending[i].close()
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
