// Steady background traffic, to show what an apply does to flows already
// running: a TCP stream with echoes (peers/stream.py), a fast ping, and a
// tagged UDP flow the server's sniffer can count.

import { resolve } from 'node:path';

import { PYTHON, type Daemon } from './proc.ts';
import { hostAddress, newTag } from './probes.ts';
import type { Family, Host, Topology } from './topology.ts';

const STREAM = resolve('test/net/peers/stream.py');
const PROBE = resolve('test/net/peers/probe.py');
export const STREAM_PORT = 5001;

export interface StreamResult {
  sent: number;
  echoed: number;
  max_gap_ms: number;
  error: string | null;
}

/** An echo server in the server namespace and a client sending a line every `everyMs`. */
export async function tcpStream(topo: Topology, from: Host, family: Family, everyMs = 10): Promise<{ stop(): Promise<StreamResult> }> {
  const server = topo.daemon('server', 'stream-server', [PYTHON, STREAM, 'server', String(STREAM_PORT)]);

  if (!(await server.waitJson((v) => v.ready === true, 10_000))) throw new Error(`stream server did not start: ${server.text()}`);
  const client = topo.daemon(from, 'stream-client', [PYTHON, STREAM, 'client', hostAddress('server', family), String(STREAM_PORT), String(everyMs)]);

  if (!(await client.waitJson((v) => v.connected === true, 10_000))) throw new Error(`stream client did not connect: ${client.text()}`);

  return {
    async stop() {
      client.closeStdin();
      const result = await client.waitJson<StreamResult>((v) => 'sent' in v, 10_000);

      await Promise.all([client.stop(), server.stop()]);
      if (!result) throw new Error(`stream client gave no result: ${client.text()}`);

      return result;
    },
  };
}

/** `ping -i interval` until stop(), which returns how many were sent and received. */
export function pinger(topo: Topology, from: Host, dst: string, intervalS = 0.01): { daemon: Daemon; stop(): Promise<{ sent: number; received: number; output: string }> } {
  const d = topo.daemon(from, 'ping', ['ping', '-n', '-i', String(intervalS), '-W', '1', dst]);

  return {
    daemon: d,
    async stop() {
      d.signal('SIGINT'); // ping prints its statistics on SIGINT
      await Promise.race([d.exited, new Promise((r) => setTimeout(r, 2000))]);
      await d.stop();
      const m = /(\d+) packets transmitted, (\d+) received/.exec(d.text());

      return { sent: m ? Number(m[1]) : 0, received: m ? Number(m[2]) : 0, output: d.text() };
    },
  };
}

/** A UDP flow (one 5-tuple) of tagged packets every `everyMs` for `count` packets. */
export function udpFlow(topo: Topology, from: Host, family: Family, port: number, count = 1000, everyMs = 10): { tag: string; daemon: Daemon } {
  const tag = newTag(`flow-udp${port}-${from}`);
  const probe = [{ kind: 'udp', dst: hostAddress('server', family), port, sport: 40000 + (port % 1000), tag, count, every: everyMs }];

  return { tag, daemon: topo.daemon(from, 'udp-flow', [PYTHON, PROBE, JSON.stringify(probe)]) };
}
