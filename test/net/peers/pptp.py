#!/usr/bin/python3
"""A packet-level PPTP peer (RFC 2637): the control connection on TCP 1723,
then enhanced GRE keyed by Call ID. The kernel here has no PPP, so the GRE
payload is a tag, not a PPP frame; conntrack's PPTP helper and the GRE
tracker only look at the headers.

    pptp.py server
        Accepts control connections (IPv4 and IPv6), answers
        Start-Control-Connection and Outgoing-Call requests with a Call ID of
        its own, and echoes every GRE packet back to its sender keyed by the
        Call ID that sender's Outgoing-Call-Request carried (as the server saw
        it, i.e. after NAT). One JSON line per event; {"ready": true} first.

    pptp.py client SERVER TAG [--call-id N] [--gre N] [--wait S] [--connect S] [--stream MS]
        Opens a control connection and a call, prints {"control": ...}, then
        sends N GRE packets keyed by the server's Call ID and prints which
        replies came back keyed by its own Call ID: "own" carry its tag,
        "foreign" someone else's. With --stream it instead sends one GRE
        packet and one Echo-Request every MS and prints a line per reply
        until stdin closes. It keeps the control connection open until stdin
        closes, so the test can look at conntrack meanwhile. --wait is how
        long GRE replies are waited for (1 s), --connect how long each step
        of the control connection may take before it counts as failed (10 s:
        a busy machine is slow, a blocked one never answers).
"""

import argparse
import json
import re
import select
import socket
import struct
import sys
import threading
import time

PORT, GRE, COOKIE = 1723, 47, 0x1A2B3C4D
SCCRQ, SCCRP, ECHO_RQ, ECHO_RP, OCRQ, OCRP = 1, 2, 5, 6, 7, 8
TAG = re.compile(rb'vpt:([A-Za-z0-9_.:-]{1,80});')
out_lock = threading.Lock()


def emit(obj):
    with out_lock:
        print(json.dumps(obj), flush=True)


def control(kind, body):
    """A control message: Length, PPTP Message Type 1, Magic Cookie, Control Message Type, Reserved0."""
    return struct.pack('!HHIHH', 12 + len(body), 1, COOKIE, kind, 0) + body


def sccrq():
    # version 1.0, framing async+sync, bearer analog+digital, 1 channel, firmware 1, host name, vendor
    return control(SCCRQ, struct.pack('!HHIIHH64s64s', 0x0100, 0, 3, 3, 1, 1, b'vpt-client', b'vpt'))


def sccrp():
    return control(SCCRP, struct.pack('!HBBIIHH64s64s', 0x0100, 1, 0, 3, 3, 1, 1, b'vpt-server', b'vpt'))


def ocrq(call_id):
    # Call ID, serial, min/max bps, bearer, framing, window, delay, phone length, reserved, phone, subaddress
    return control(OCRQ, struct.pack('!HHIIIIHHHH64s64s', call_id, 1, 300, 100000000, 3, 3, 64, 0, 0, 0, b'', b''))


def ocrp(call_id, peer_call_id):
    # Call ID, Peer's Call ID, result 1 (connected), error, cause, speed, window, delay, channel
    return control(OCRP, struct.pack('!HHBBHIHHI', call_id, peer_call_id, 1, 0, 0, 100000000, 64, 0, 0))


def read_message(conn):
    """One control message as (type, body after the 12-byte header), or None at EOF."""
    head = read_exact(conn, 12)
    if head is None:
        return None
    length, _, cookie, kind, _ = struct.unpack('!HHIHH', head)
    if cookie != COOKIE or length < 12:
        raise ValueError('not a PPTP control message')
    body = read_exact(conn, length - 12)

    return None if body is None else (kind, body)


def read_exact(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk

    return data


def gre(call_id, seq, data):
    """Enhanced GRE (RFC 2637 4.1): K and S bits, version 1, protocol 0x880B."""
    return struct.pack('!HHHHI', 0x3001, 0x880B, len(data), call_id, seq) + data


def parse_gre(packet, family):
    """(key, seq, payload) of an enhanced GRE packet; IPv4 raw sockets include the IP header."""
    if family == socket.AF_INET:
        packet = packet[(packet[0] & 0x0F) * 4:]
    flags, proto, _, key = struct.unpack_from('!HHHH', packet)
    if flags & 0x7 != 1 or proto != 0x880B:
        return None
    off, seq = 8, None
    if flags & 0x1000:
        seq = struct.unpack_from('!I', packet, off)[0]
        off += 4
    if flags & 0x0080:
        off += 4

    return key, seq, packet[off:]


def plain(address):
    return address[7:] if address.startswith('::ffff:') else address


# ---------------------------------------------------------------- server

def server(_args):
    calls = {}  # our Call ID -> the Call ID the peer sent (as seen here, after NAT)
    next_id = [0x4000]
    lock = threading.Lock()
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('::', PORT))
    listener.listen(16)
    raw = {socket.AF_INET: socket.socket(socket.AF_INET, socket.SOCK_RAW, GRE), socket.AF_INET6: socket.socket(socket.AF_INET6, socket.SOCK_RAW, GRE)}

    def serve(conn, peer):
        try:
            while True:
                msg = read_message(conn)
                if msg is None:
                    break
                kind, body = msg
                if kind == SCCRQ:
                    conn.sendall(sccrp())
                    emit({'event': 'sccrq', 'peer': peer})
                elif kind == OCRQ:
                    peer_call_id = struct.unpack_from('!H', body)[0]
                    with lock:
                        call_id = next_id[0]
                        next_id[0] += 1
                        calls[call_id] = peer_call_id
                    conn.sendall(ocrp(call_id, peer_call_id))
                    emit({'event': 'call', 'peer': peer, 'peer_call_id': peer_call_id, 'call_id': call_id})
                elif kind == ECHO_RQ:
                    conn.sendall(control(ECHO_RP, body[:4] + struct.pack('!BBH', 1, 0, 0)))
        except (OSError, ValueError) as e:
            emit({'event': 'error', 'peer': peer, 'error': str(e)})
        emit({'event': 'closed', 'peer': peer})
        conn.close()

    def accept():
        while True:
            conn, address = listener.accept()
            threading.Thread(target=serve, args=(conn, plain(address[0])), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    emit({'ready': True})
    while True:
        for sock in select.select(list(raw.values()), [], [])[0]:
            family = sock.family
            packet, address = sock.recvfrom(65535)
            parsed = parse_gre(packet, family)
            if not parsed:
                continue
            key, seq, data = parsed
            m = TAG.search(data)
            with lock:
                peer_call_id = calls.get(key)
            emit({'event': 'gre', 'from': plain(address[0]), 'key': key, 'tag': m.group(1).decode() if m else None, 'known': peer_call_id is not None})
            if peer_call_id is not None:
                sock.sendto(gre(peer_call_id, seq or 0, b'echo:' + data), (address[0], 0))


# ---------------------------------------------------------------- client

def client(args):
    family = socket.AF_INET6 if ':' in args.server else socket.AF_INET
    conn = socket.socket(family, socket.SOCK_STREAM)
    conn.settimeout(args.connect)
    try:
        conn.connect((args.server, PORT))
        conn.sendall(sccrq())
        kind, body = read_message(conn)
        if kind != SCCRP or body[2] != 1:
            raise ValueError('no Start-Control-Connection-Reply')
        conn.sendall(ocrq(args.call_id))
        kind, body = read_message(conn)
        if kind != OCRP:
            raise ValueError('no Outgoing-Call-Reply')
        server_call_id, echoed = struct.unpack_from('!HH', body)
    except (OSError, ValueError, TypeError) as e:
        emit({'control': 'failed', 'error': str(e) or type(e).__name__})
        return 1
    emit({'control': 'ok', 'call_id': args.call_id, 'server_call_id': server_call_id, 'echoed_call_id': echoed})

    raw = socket.socket(family, socket.SOCK_RAW, GRE)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    if args.stream:
        stream(args, conn, raw, family, server_call_id, stop)
    else:
        burst(args, raw, family, server_call_id)
        stop.wait()
    conn.close()

    return 0


def replies(raw, family, server):
    """GRE packets from the server waiting on the raw socket: (key, seq, tag) each."""
    found = []
    while select.select([raw], [], [], 0)[0]:
        packet, address = raw.recvfrom(65535)
        parsed = parse_gre(packet, family)
        if parsed and plain(address[0]) == server:
            m = TAG.search(parsed[2])
            found.append((parsed[0], parsed[1], m.group(1).decode() if m else None))

    return found


def burst(args, raw, family, server_call_id):
    own, foreign, keys = set(), [], set()
    deadline = time.monotonic() + args.wait
    for i in range(args.gre):
        raw.sendto(gre(server_call_id, i + 1, b'vpt:%s.%d;' % (args.tag.encode(), i)), (args.server, 0))
    while time.monotonic() < deadline and len(own) < args.gre:
        select.select([raw], [], [], 0.02)
        for key, _, tag in replies(raw, family, args.server):
            keys.add(key)
            if key == args.call_id and tag and tag.rsplit('.', 1)[0] == args.tag:
                own.add(tag)
            else:
                foreign.append({'key': key, 'tag': tag})
    emit({'gre_sent': args.gre, 'own': len(own), 'foreign': foreign, 'keys': sorted(keys)})


def stream(args, conn, raw, family, server_call_id, stop):
    conn.setblocking(False)
    pending = b''
    n = 0
    while not stop.is_set():
        n += 1
        try:
            raw.sendto(gre(server_call_id, n, b'vpt:%s.%d;' % (args.tag.encode(), n)), (args.server, 0))
            conn.send(control(ECHO_RQ, struct.pack('!I', n)))
        except OSError:
            pass  # a full socket buffer while the path is cut: keep going
        emit({'sent': n, 't': time.monotonic()})
        end = time.monotonic() + args.stream / 1000
        while time.monotonic() < end:
            select.select([raw, conn], [], [], max(0, end - time.monotonic()))
            for key, seq, _ in replies(raw, family, args.server):
                emit({'gre': seq, 'key': key, 't': time.monotonic()})
            try:
                pending += conn.recv(4096) or b''
            except (BlockingIOError, OSError):
                pass
            while len(pending) >= 16 and len(pending) >= struct.unpack_from('!H', pending)[0]:
                length = struct.unpack_from('!H', pending)[0]
                if struct.unpack_from('!H', pending, 8)[0] == ECHO_RP:
                    emit({'echo': struct.unpack_from('!I', pending, 12)[0], 't': time.monotonic()})
                pending = pending[length:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('role', choices=['server', 'client'])
    ap.add_argument('server', nargs='?')
    ap.add_argument('tag', nargs='?', default='pptp')
    ap.add_argument('--call-id', type=int, default=0x1234)
    ap.add_argument('--gre', type=int, default=3)
    ap.add_argument('--wait', type=float, default=1.0)
    ap.add_argument('--connect', type=float, default=10.0)
    ap.add_argument('--stream', type=float, default=0)
    args = ap.parse_args()
    try:
        sys.exit(server(args) if args.role == 'server' else client(args))
    except (KeyboardInterrupt, BrokenPipeError):
        pass


if __name__ == '__main__':
    main()
