#!/usr/bin/python3
"""An echo service and a client that talks to it from a source port of its
choice: a service that is not VPN, used from a port that VPN protocols use.

    echo.py server udp|tcp PORT
        echoes what it gets (IPv4 and IPv6); prints {"ready": true}
    echo.py client udp|tcp DST PORT SPORT TAG [TIMEOUT]
        sends "vpt:TAG;" from source port SPORT, waits up to TIMEOUT seconds
        (10) for it to come back; prints {"replied": true|false, "error": ...}
"""

import json
import socket
import sys
import threading


def server(proto, port):
    kind = socket.SOCK_DGRAM if proto == 'udp' else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', port))
    if proto == 'tcp':
        s.listen(8)
    print(json.dumps({'ready': True}), flush=True)
    while True:
        if proto == 'udp':
            data, address = s.recvfrom(65535)
            s.sendto(data, address)
            continue
        conn, _ = s.accept()
        threading.Thread(target=lambda c: (c.sendall(c.recv(65535)), c.close()), args=(conn,), daemon=True).start()


def client(proto, dst, port, sport, tag, timeout):
    af = socket.AF_INET6 if ':' in dst else socket.AF_INET
    s = socket.socket(af, socket.SOCK_DGRAM if proto == 'udp' else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::' if af == socket.AF_INET6 else '0.0.0.0', sport))
    s.settimeout(timeout)
    data = ('vpt:%s;' % tag).encode()
    try:
        if proto == 'udp':
            s.sendto(data, (dst, port))
        else:
            s.connect((dst, port))
            s.sendall(data)
        replied = s.recv(65535) == data
        print(json.dumps({'replied': replied, 'error': None}), flush=True)
    except OSError as e:
        print(json.dumps({'replied': False, 'error': str(e) or type(e).__name__}), flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        server(sys.argv[2], int(sys.argv[3]))
    else:
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], float(sys.argv[7]) if len(sys.argv) > 7 else 10.0)
