#!/usr/bin/python3
"""A steady TCP stream, to show that something else is never interrupted.

    stream.py server [PORT]             echoes every byte back (IPv4 and IPv6)
    stream.py client DST [PORT] [MS]    sends a numbered line every MS (10)
                                        until stdin closes, then prints
                                        {"sent", "echoed", "max_gap_ms", "error"}

max_gap_ms is the longest time between two echoes arriving: a stall while
the firewall is replaced shows up there, a reset as "error".
"""

import json
import select
import socket
import sys
import threading
import time


def server(port):
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('::', port))
    listener.listen(8)
    print(json.dumps({'ready': True}), flush=True)

    def echo(conn):
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
        conn.close()

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def client(dst, port, every_ms):
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    s = socket.create_connection((dst, port), timeout=1)
    s.setblocking(False)
    sent, echoed, buf, error = 0, 0, b'', None
    last = time.monotonic()
    max_gap = 0.0
    print(json.dumps({'connected': True}), flush=True)
    drain_until = None
    while drain_until is None or (time.monotonic() < drain_until and echoed < sent):
        if stop.is_set() and drain_until is None:
            drain_until = time.monotonic() + 0.5
        if drain_until is None:
            sent += 1
            try:
                s.sendall(b'%d\n' % sent)
            except OSError as e:
                error = str(e)
                break
        end = time.monotonic() + every_ms / 1000
        while time.monotonic() < end:
            if not select.select([s], [], [], max(0, end - time.monotonic()))[0]:
                continue
            try:
                data = s.recv(65536)
            except OSError as e:
                error = str(e)
                break
            if not data:
                error = 'closed by the server'
                break
            now = time.monotonic()
            max_gap = max(max_gap, now - last)
            last = now
            buf += data
            echoed += buf.count(b'\n')
            buf = buf[buf.rfind(b'\n') + 1:]
        if error:
            break
    print(json.dumps({'sent': sent, 'echoed': echoed, 'max_gap_ms': round(max_gap * 1000, 1), 'error': error}), flush=True)


if __name__ == '__main__':
    try:
        if sys.argv[1] == 'server':
            server(int(sys.argv[2]) if len(sys.argv) > 2 else 5001)
        else:
            client(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5001, float(sys.argv[4]) if len(sys.argv) > 4 else 10)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
