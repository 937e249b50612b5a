// The probe's exchanges with a VPN server, through the Platform's sockets:
// each sends its protocol's opening message the way a client does and
// waits, within a time limit, for the answer the pure codecs recognize.
// UDP requests are sent again every second, as clients retransmit; a TCP
// connection or UDP socket is always closed before the exchange returns.

import { decodeIke, encodeIke, IKE_PORT, NATT_PORT, withMarker, withoutMarker, type IkeMessage } from '../core/probe/ike.ts';
import { describeIke, ikeSaInit, KE_BYTES, keData, natDetection, natDetectionHash, PROBE_GROUP } from '../core/probe/ike-init.ts';
import { decodeControl as decodeL2tp, describeReply, L2TP_PORT, messageType, SCCRP as L2TP_SCCRP, sccrq as l2tpSccrq, STOP_CCN, stopCcn, type ControlMessage as L2tpMessage } from '../core/probe/l2tp.ts';
import { decodeStartControl, PPTP_ERRORS, PPTP_MESSAGES, PPTP_PORT, PptpFramer, SCCRP, SCCRP_RESULTS, sccrq, stopCcrq, STOP_CCRP } from '../core/probe/pptp.ts';
import type { Exchange, Outcome, PptpReply } from '../core/probe/report.ts';
import { equalBytes, Malformed } from '../core/probe/wire.ts';
import { errorCode, errorMessage, type Conn, type Endpoint, type Platform } from '../platform/platform.ts';

/** How we name ourselves in PPTP and L2TP (Host Name, Vendor). */
export const IDENTITY = { hostName: 'vpn-passthrough', vendor: 'vpn-passthrough probe' };
const RETRANSMIT_MS = 1000;
/** After an answer: how long to wait for the server to acknowledge our goodbye. */
const GOODBYE_MS = 300;

const TIMEOUT = Symbol('timeout');

/** The promise's value, or TIMEOUT once ms have passed. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;

  try {
    return await Promise.race([promise, new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, ms))))]);
  } finally {
    clearTimeout(timer);
  }
}

const since = (t: number) => Math.round((performance.now() - t) * 10) / 10;

/** What a socket error means for the exchange. */
function failure(e: unknown): { outcome: Outcome; error: string } {
  const code = errorCode(e);
  const error = code && !errorMessage(e).includes(code) ? `${code}: ${errorMessage(e)}` : errorMessage(e);

  if (code === 'ECONNREFUSED') return { outcome: 'refused', error };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN') return { outcome: 'unreachable', error };
  if (code === 'ETIMEDOUT') return { outcome: 'no_answer', error };
  if (code === 'ECONNRESET' || code === 'EPIPE') return { outcome: 'closed', error };

  return { outcome: 'error', error };
}

function result(transport: 'tcp' | 'udp', port: number, outcome: Outcome, rest: Partial<Exchange> = {}): Exchange {
  return { transport, port, outcome, answered: outcome === 'answered', rtt_ms: null, attempts: 1, ...rest };
}

// ---------------------------------------------------------------- PPTP

function pptpReply(body: ReturnType<typeof decodeStartControl>): PptpReply {
  return {
    message: PPTP_MESSAGES[SCCRP]!,
    result: body.result ?? 0,
    result_text: SCCRP_RESULTS[body.result ?? 0] ?? `result code ${body.result}`,
    error: body.error ?? 0,
    error_text: PPTP_ERRORS[body.error ?? 0] ?? `error code ${body.error}`,
    protocol_version: `${body.version >> 8}.${body.version & 0xff}`,
    host_name: body.hostName,
    vendor: body.vendor,
    firmware: body.firmware,
    max_channels: body.maxChannels,
  };
}

/** Reads whole control messages until one comes, the stream ends or the time is up. */
async function nextPptp(conn: Conn, framer: PptpFramer, deadline: number): Promise<ReturnType<PptpFramer['next']> | typeof TIMEOUT> {
  for (let m = framer.next(); ; m = framer.next()) {
    if (m) return m;
    const chunk = await within(conn.read(), deadline - performance.now());

    if (chunk === TIMEOUT || chunk === null) return chunk;
    framer.push(chunk);
  }
}

export async function probePptp(platform: Platform, address: string, timeoutMs: number, port = PPTP_PORT): Promise<Exchange> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let conn;

  try {
    conn = await platform.connectTcp(address, port, timeoutMs);
  } catch (e) {
    return result('tcp', port, failure(e).outcome, { error: failure(e).error });
  }

  const connect_ms = since(started);
  const framer = new PptpFramer();
  const sent = performance.now();

  try {
    await conn.write(sccrq(IDENTITY.hostName, IDENTITY.vendor));
    const m = await nextPptp(conn, framer, deadline);

    if (m === TIMEOUT) return result('tcp', port, 'no_answer', { connect_ms, error: `connected, but no reply within ${timeoutMs / 1000} s` });
    if (m === null) return result('tcp', port, 'closed', { connect_ms, error: 'the server closed the connection without a reply' });
    const rtt_ms = since(sent);

    if (m.type !== SCCRP) return result('tcp', port, 'unexpected', { connect_ms, rtt_ms, error: `the server sent ${PPTP_MESSAGES[m.type] ?? `message type ${m.type}`} instead of a Start-Control-Connection-Reply` });
    const reply = pptpReply(decodeStartControl(m));

    // Accepted: close the control connection the way a client does.
    if (reply.result === 1) {
      await conn.write(stopCcrq()).catch(() => undefined);
      const until = performance.now() + GOODBYE_MS;

      for (let bye = await nextPptp(conn, framer, until).catch(() => null); bye && bye !== TIMEOUT && bye.type !== STOP_CCRP; ) bye = await nextPptp(conn, framer, until).catch(() => null);
    }

    return result('tcp', port, 'answered', { connect_ms, rtt_ms, reply });
  } catch (e) {
    if (e instanceof Malformed) return result('tcp', port, 'malformed', { connect_ms, error: `not a PPTP server: ${e.message}` });

    return result('tcp', port, failure(e).outcome, { connect_ms, error: failure(e).error });
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------- UDP exchanges

interface UdpExchange<T> {
  port: number;
  /** The request, which may depend on our socket's own address. */
  request(local: Endpoint): Uint8Array;
  /** The answer in a datagram; null when it is not for us (ignored). Throws Malformed. */
  answer(datagram: Uint8Array): T | null;
}

interface UdpOutcome<T> {
  exchange: Exchange;
  answer?: T;
  local?: Endpoint;
  /** Still open after an answer, for a goodbye; the caller closes it. */
  socket?: Awaited<ReturnType<Platform['connectUdp']>>;
  /** The receive() already waiting on that socket: the next datagram. */
  next?: Promise<Uint8Array | null>;
}

async function udpExchange<T>(platform: Platform, address: string, timeoutMs: number, x: UdpExchange<T>): Promise<UdpOutcome<T>> {
  let sock;

  try {
    sock = await platform.connectUdp(address, x.port);
  } catch (e) {
    return { exchange: result('udp', x.port, failure(e).outcome, { attempts: 0, error: failure(e).error }) };
  }

  const started = performance.now();
  const deadline = started + timeoutMs;
  let attempts = 0;
  let malformed: string | undefined;
  // A receive stays pending across retransmits (a second one would miss the
  // datagram the first gets); an ICMP error may reject it before it is awaited.
  const receive = () => {
    const p = sock.receive();

    p.catch(() => undefined);

    return p;
  };
  let pending = receive();
  let keep = false;

  try {
    const request = x.request(sock.local);

    for (let resend = started; ; ) {
      if (performance.now() >= resend) {
        attempts++;
        await sock.send(request);
        resend += RETRANSMIT_MS;
      }

      const datagram = await within(pending, Math.min(resend, deadline) - performance.now());

      if (datagram === TIMEOUT) {
        if (performance.now() < deadline) continue;
        const outcome = malformed ? 'malformed' : 'no_answer';

        return { exchange: result('udp', x.port, outcome, { attempts, error: malformed ?? `no reply within ${timeoutMs / 1000} s` }) };
      }
      if (datagram === null) return { exchange: result('udp', x.port, 'closed', { attempts }) };
      pending = receive();

      try {
        const answer = x.answer(datagram);

        if (answer === null) continue;
        keep = true;

        return { exchange: result('udp', x.port, 'answered', { attempts, rtt_ms: since(started) }), answer, local: sock.local, socket: sock, next: pending };
      } catch (e) {
        if (!(e instanceof Malformed)) throw e;
        malformed = `something other than the protocol answered: ${e.message}`;
      }
    }
  } catch (e) {
    return { exchange: result('udp', x.port, failure(e).outcome, { attempts, error: failure(e).error }) };
  } finally {
    if (!keep) sock.close();
  }
}

// ---------------------------------------------------------------- L2TP

export async function probeL2tp(platform: Platform, address: string, timeoutMs: number, port = L2TP_PORT): Promise<Exchange> {
  const random = platform.randomBytes(2);
  const tunnel = ((random[0]! << 8) | random[1]!) || 1;
  const out = await udpExchange<L2tpMessage>(platform, address, timeoutMs, {
    port,
    request: () => l2tpSccrq({ tunnel, ...IDENTITY }),
    answer(datagram) {
      const m = decodeL2tp(datagram);
      const type = messageType(m);

      // A ZLB acknowledgement, or something for another tunnel: keep waiting.
      return (m.tunnel === tunnel || m.tunnel === 0) && (type === L2TP_SCCRP || type === STOP_CCN) ? m : null;
    },
  });

  if (!out.answer || !out.socket) return out.exchange;
  const reply = describeReply(out.answer);

  // Accepted: tell the server we are done, so it frees the tunnel at once.
  if (messageType(out.answer) === L2TP_SCCRP && reply.assigned_tunnel) {
    await out.socket.send(stopCcn({ peerTunnel: reply.assigned_tunnel, tunnel, ns: 1, nr: (out.answer.ns + 1) & 0xffff })).catch(() => undefined);
    await within(out.next!.catch(() => null), GOODBYE_MS);
  }
  out.socket.close();

  return { ...out.exchange, reply };
}

// ---------------------------------------------------------------- IPsec

/** One IKE_SA_INIT and its answer. It is never followed up: a server that
 * refuses (INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, COOKIE) keeps no state,
 * and one that accepts keeps a half-open SA until it times out, as after any
 * client that gave up. Asking again with the group a server wants would add
 * half-open SAs, which servers count per address to block floods: the
 * clients behind this router share that address. */
async function probeIkePort(platform: Platform, address: string, port: number, natT: boolean, timeoutMs: number): Promise<Exchange> {
  const spi = platform.randomBytes(8);
  const nonce = platform.randomBytes(32);
  const ke = keData(PROBE_GROUP, platform.randomBytes(KE_BYTES[PROBE_GROUP]!))!;
  const out = await udpExchange<IkeMessage>(platform, address, timeoutMs, {
    port,
    request(local) {
      const zero = new Uint8Array(8);
      const ike = encodeIke(ikeSaInit({ spi, nonce, group: PROBE_GROUP, ke, natSource: natDetectionHash(spi, zero, local), natDestination: natDetectionHash(spi, zero, { address, port }) }));

      return natT ? withMarker(ike) : ike;
    },
    answer(datagram) {
      const ike = natT ? withoutMarker(datagram) : datagram;

      // A NAT-T keepalive, ESP, or a message for someone else's SPI.
      if (!ike || ike.length < 8 || !equalBytes(ike.subarray(0, 8), spi)) return null;

      return decodeIke(ike);
    },
  });

  out.socket?.close();
  if (!out.answer) return out.exchange;
  const nat = out.local ? natDetection(out.answer, out.local, { address, port }) : undefined;

  return { ...out.exchange, reply: describeIke(out.answer), ...(nat ? { nat } : {}) };
}

/** IKE_SA_INIT on UDP 500 and, with the non-ESP marker, on UDP 4500, at once. */
export function probeIpsec(platform: Platform, address: string, timeoutMs: number, ports = { ike: IKE_PORT, natT: NATT_PORT }): Promise<Exchange[]> {
  return Promise.all([probeIkePort(platform, address, ports.ike, false, timeoutMs), probeIkePort(platform, address, ports.natT, true, timeoutMs)]);
}
