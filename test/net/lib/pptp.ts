// The packet-level PPTP peers (peers/pptp.py): a server outside, clients
// inside that open a control connection and a call, then exchange enhanced
// GRE keyed by Call ID.

import { resolve } from 'node:path';

import { PYTHON, type Daemon } from './proc.ts';
import { hostAddress, newTag } from './probes.ts';
import type { Client, Family, Host, Topology } from './topology.ts';

const SCRIPT = resolve('test/net/peers/pptp.py');

/** The Call ID both clients use: the same on purpose, the helper must tell them apart. */
export const CALL_ID = 0x1234;

export interface ServerCall {
  event: 'call';
  peer: string;
  /** The Call ID the server saw in the Outgoing-Call-Request (rewritten by the NAT helper). */
  peer_call_id: number;
  call_id: number;
}

export async function pptpServer(topo: Topology): Promise<Daemon> {
  const d = topo.daemon('server', 'pptp-server', [PYTHON, SCRIPT, 'server']);

  if (!(await d.waitJson((v) => v.ready === true, 10_000))) throw new Error(`pptp server did not start: ${d.text()}`);

  return d;
}

export const serverCalls = (server: Daemon): ServerCall[] => server.json<ServerCall>().filter((e) => e.event === 'call');

/** The calls the server reports after `from` calls, once there are `count` of them (its output may lag the clients'). */
export async function newCalls(server: Daemon, from: number, count: number, timeoutMs = 10_000): Promise<ServerCall[]> {
  const deadline = Date.now() + timeoutMs;

  while (serverCalls(server).length < from + count && Date.now() < deadline) {
    await server.waitFor(() => serverCalls(server).length >= from + count, deadline - Date.now(), server.lines.length);
  }

  return serverCalls(server).slice(from);
}

export interface Control {
  control: 'ok' | 'failed';
  error?: string;
  call_id?: number;
  server_call_id?: number;
  /** The Peer's Call ID field of the Outgoing-Call-Reply as the client got it. */
  echoed_call_id?: number;
}

export interface Burst {
  gre_sent: number;
  /** GRE replies keyed by our Call ID that carry our own tag. */
  own: number;
  /** Replies that reached us but were meant for someone else (or carry another key). */
  foreign: { key: number; tag: string | null }[];
  keys: number[];
}

export interface Session {
  client: Host;
  tag: string;
  daemon: Daemon;
  control: Control;
  /** Undefined when the control connection failed. */
  burst?: Burst;
  /** Closes the control connection; the client exits. */
  close(): Promise<void>;
}

/** One PPTP session from an inside client (or the router itself):
 * control connection, call, `gre` GRE packets and their echoes. It stays
 * open (for conntrack -L) until close(). waitS: how long GRE replies are
 * waited for; connectS: how long a control step may take (short only where
 * the control connection is meant to fail). */
export async function pptpSession(topo: Topology, client: Host, family: Family = 4, options: { gre?: number; waitS?: number; connectS?: number } = {}): Promise<Session> {
  const tag = newTag(`pptp-${client}`);
  const waitS = options.waitS ?? 1;
  const connectS = options.connectS ?? 10;
  const d = topo.daemon(client, 'pptp-client', [PYTHON, SCRIPT, 'client', hostAddress('server', family), tag, '--call-id', String(CALL_ID), '--gre', String(options.gre ?? 3), '--wait', String(waitS), '--connect', String(connectS)]);
  const control = await d.waitJson<Control>((v) => 'control' in v, (3 * connectS + 10) * 1000);
  const burst = control?.control === 'ok' ? await d.waitJson<Burst>((v) => 'gre_sent' in v, (waitS + 10) * 1000) : undefined;
  const close = async () => {
    d.closeStdin();
    await Promise.race([d.exited, new Promise((r) => setTimeout(r, 1000))]);
    await d.stop();
  };

  if (!control) {
    await close();
    throw new Error(`pptp client on ${client} said nothing: ${d.text()}`);
  }

  return { client, tag, daemon: d, control, ...(burst ? { burst } : {}), close };
}

/** A client that keeps sending one GRE packet and one Echo-Request every
 * `everyMs` and reports each reply, until stopped. */
export async function pptpStream(topo: Topology, client: Client, everyMs = 20): Promise<{ daemon: Daemon; control: Control; tag: string }> {
  const tag = newTag(`pptpstream-${client}`);
  const d = topo.daemon(client, 'pptp-stream', [PYTHON, SCRIPT, 'client', hostAddress('server', 4), tag, '--call-id', String(CALL_ID), '--stream', String(everyMs)]);
  const control = await d.waitJson<Control>((v) => 'control' in v, 35_000);

  if (!control) throw new Error(`pptp stream client on ${client} said nothing: ${d.text()}`);

  return { daemon: d, control, tag };
}
