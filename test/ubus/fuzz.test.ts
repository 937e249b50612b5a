// Truncated and corrupted messages, generated deterministically from the real
// transcripts: every prefix of every recorded message, and seeded corruptions
// (bit flips, odd bytes, broken attribute lengths, inserted and dropped
// bytes). The codec must answer each with a message, "need more bytes" or a
// MalformedError; the client, fed each one in place of the recorded message
// while doing the recorded operation, must end with a result or a UbusError:
// never another exception, an unhandled rejection or a hang.

import { join } from 'node:path';
import { tmpdir } from 'node:os';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Conn } from '../../firmware/platform/platform.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { connect, type UbusClient } from '../../firmware/ubus/client.ts';
import { MalformedError, UbusError } from '../../firmware/ubus/errors.ts';
import { decodeMessage, FrameReader } from '../../firmware/ubus/message.ts';
import type { MethodSpec } from '../../firmware/ubus/objects.ts';
import { toTable } from '../../firmware/ubus/value.ts';
import { memPipe } from '../lib/mempipe.ts';
import { rng, type Rng } from '../lib/prng.ts';
import { allConns, loadConn, type Line } from '../lib/ubus-transcript.ts';

const CORRUPTIONS_PER_MESSAGE = 40;
const SCENARIO_LIMIT_MS = 5000;

interface Mutation {
  conn: string;
  /** Which line of the transcript it replaces. */
  index: number;
  kind: 'truncated' | 'corrupted';
  bytes: Uint8Array;
}

/** Offsets of every blob_attr header in a message: the root, the UBUS_ATTR_*
 * attributes, and the blobmsg attributes nested in DATA and SIGNATURE. */
function attrHeaders(msg: Uint8Array): number[] {
  const view = new DataView(msg.buffer, msg.byteOffset, msg.length);
  const out = [8];
  const walk = (start: number, end: number, blobmsg: boolean) => {
    for (let off = start; off + 4 <= end; ) {
      const idLen = view.getUint32(off);
      const len = idLen & 0xffffff;

      if (len < 4 || off + len > end) return;
      out.push(off);
      const id = (idLen >>> 24) & 0x7f;

      if (blobmsg && (id === 1 || id === 2) && len >= 6) walk(off + 4 + ((2 + view.getUint16(off + 4) + 1 + 3) & ~3), off + len, true);
      if (!blobmsg && (id === 6 || id === 7)) walk(off + 4, off + len, true);
      if (!blobmsg && id === 11) walk(off + 4, off + len, false);
      off += (len + 3) & ~3;
    }
  };

  walk(12, Math.min(msg.length, 8 + (view.getUint32(8) & 0xffffff)), false);

  return out;
}

function corrupt(msg: Uint8Array, r: Rng): Uint8Array {
  const out = msg.slice();
  const view = new DataView(out.buffer);
  const at = r.int(0, out.length - 1);

  switch (r.int(0, 6)) {
    case 0:
      out[at]! ^= 1 << r.int(0, 7);

      return out;
    case 1:
      out[at] = r.pick([0x00, 0xff, 0x7f, 0x80, 0x01, r.int(0, 255)]);

      return out;
    case 2:
    case 3: {
      // an attribute length: off by a little, zero, huge, or random
      const h = r.pick(attrHeaders(msg));
      const old = view.getUint32(h);
      const len = old & 0xffffff;
      const fresh = r.pick([0, 3, 4, len - 1, len + 1, len - 4, len + 4, len + r.int(5, 64), 0xffffff, r.int(0, 0xffffff)]) & 0xffffff;

      view.setUint32(h, ((old & 0xff000000) | fresh) >>> 0);

      return out;
    }
    case 4: {
      // an attribute id or the extended bit
      const h = r.pick(attrHeaders(msg));

      out[h] = r.bool() ? out[h]! ^ 0x80 : (out[h]! & 0x80) | r.int(0, 0x7f);

      return out;
    }
    case 5:
      return new Uint8Array([...out.subarray(0, at), ...Array.from({ length: r.int(1, 8) }, () => r.int(0, 255)), ...out.subarray(at)]);
    default:
      return new Uint8Array([...out.subarray(0, at), ...out.subarray(at + r.int(1, 8))]);
  }
}

function mutations(dir: 'S>C' | 'C>S'): Mutation[] {
  const out: Mutation[] = [];

  for (const conn of allConns()) {
    loadConn(conn).forEach((line, index) => {
      if (line.dir !== dir) return;
      for (let n = 1; n < line.bytes.length; n++) out.push({ conn, index, kind: 'truncated', bytes: line.bytes.subarray(0, n) });
      const r = rng(index * 7919 + conn.length * 104729 + (dir === 'S>C' ? 0 : 1));

      for (let i = 0; i < CORRUPTIONS_PER_MESSAGE; i++) out.push({ conn, index, kind: 'corrupted', bytes: corrupt(line.bytes, r) });
    });
  }

  return out;
}

const fromServer = mutations('S>C');
const fromClient = mutations('C>S');

// --- the codec ---------------------------------------------------------------

test(`codec: ${fromServer.length + fromClient.length} mutations each end as a message, "need more bytes" or MalformedError`, () => {
  const outcome = { message: 0, needMore: 0, malformed: 0 };

  for (const m of [...fromServer, ...fromClient]) {
    const reader = new FrameReader();
    const where = `${m.conn} line ${m.index} ${m.kind} ${Buffer.from(m.bytes).toString('hex').slice(0, 64)}…`;

    try {
      reader.push(m.bytes);
      const frame = reader.next();

      if (m.kind === 'truncated') assert.is(frame, null, `a prefix must ask for more bytes: ${where}`);
      if (!frame) {
        outcome.needMore++;
        continue;
      }
      const msg = decodeMessage(frame);

      if (msg.attrs.data) toTable(msg.attrs.data);
      if (msg.attrs.signature) toTable(msg.attrs.signature);
      outcome.message++;
    } catch (e) {
      if (!(e instanceof MalformedError)) throw new Error(`${where}: ${String(e)}`, { cause: e });
      assert.is.not(m.kind, 'truncated', `a prefix is not malformed: ${where}`);
      outcome.malformed++;
    }
  }
  assert.ok(fromServer.length + fromClient.length >= 10_000);
  // The corpus exercises all three answers.
  assert.ok(outcome.message > 100 && outcome.needMore > 10_000 && outcome.malformed > 1000, JSON.stringify(outcome));
});

// --- the client ------------------------------------------------------------------

const methods: Record<string, MethodSpec> = {
  echo: { args: { msg: 'string' }, handler: ({ args }) => ({ msg: String(args.msg), len: String(args.msg).length }) },
  add: { args: { a: 'int32', b: 'int32' }, handler: ({ args }) => ({ sum: Number(args.a) + Number(args.b) }) },
  notify_test: {
    handler: (_req, self) => {
      self.notify('demo.notification', { hello: 'subscribers', n: 42 }).catch(() => undefined);

      return { sent: true };
    },
  },
};

/** What the recorded client did on each connection. */
function operation(conn: string): (c: UbusClient, gone: Promise<void>) => Promise<unknown> {
  const until = (p: Promise<unknown>, gone: Promise<void>) => p.then(() => gone);
  const ops: Record<string, (c: UbusClient, gone: Promise<void>) => Promise<unknown>> = {
    'a1_list.conn1': (c) => c.list(),
    'a2_list_verbose.conn1': (c) => c.list(),
    'a3_list_verbose_pattern.conn1': (c) => c.list('network.interface.*'),
    'b1_call_uci_get.conn1': (c) => c.call('uci', 'get', { config: 'system', type: 'system' }),
    'b2_call_errors.conn1': (c) => c.call('uci', 'get', { config: 'nonexistent' }),
    'b2_call_errors.conn2': (c) => c.call('uci', 'nosuchmethod'),
    'b2_call_errors.conn3': (c) => c.call('nosuchobject', 'foo'),
    'b2_call_errors.conn4': (c) => c.call('uci', 'get', { config: 123 }),
    'b3_call_session_login.conn1': (c) => c.call('session', 'login', { username: 'root', password: 'rig' }),
    'c_publish_invoke.conn1': (c, gone) => until(c.publish('demo', methods), gone),
    'c_publish_invoke.conn2': (c) => c.call('demo', 'echo', { msg: 'hello' }),
    'c_publish_invoke.conn3': (c) => c.call('demo', 'add', { a: 2, b: 40 }),
    'c_publish_invoke.conn4': (c) => c.list('demo'),
    'd_event.conn1': (c, gone) => until(c.listen('demo.event', () => undefined), gone),
    'd_event.conn2': (c) => c.send('demo.event', { x: 1, s: 'str', ok: true }),
    'e_subscribe_notify.conn1': (c, gone) => until(c.publish('demo', methods), gone),
    'e_subscribe_notify.conn2': (c, gone) => until(c.subscribe('demo', () => undefined), gone),
    'e_subscribe_notify.conn3': (c) => c.call('demo', 'notify_test'),
  };

  return ops[conn]!;
}

/** ubusd's side, loosely: plays S>C lines, takes whatever the client sends
 * for C>S lines, and closes when the client goes quiet or the script ends. */
async function playLoosely(conn: Conn, lines: readonly Line[], quiet: () => Promise<void>): Promise<void> {
  let buf = Buffer.alloc(0);
  let reading: Promise<Uint8Array | null> | undefined;
  const takeOne = async (): Promise<boolean> => {
    for (;;) {
      if (buf.length >= 12 && buf.length >= 8 + (buf.readUInt32BE(8) & 0xffffff)) {
        buf = buf.subarray(8 + (buf.readUInt32BE(8) & 0xffffff));

        return true;
      }
      reading ??= conn.read();
      const got = await Promise.race([reading, quiet().then(() => 'quiet' as const)]);

      if (got === 'quiet' || got === null) return false;
      reading = undefined;
      buf = Buffer.concat([buf, got]);
    }
  };

  for (const line of lines) {
    if (line.dir === 'S>C') await conn.write(line.bytes).catch(() => undefined);
    else if (!(await takeOne())) break;
  }
  conn.close();
}

const turns = (n: number) => async () => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** How scenarios ended: "ok" or the UbusError code. */
const endings = new Map<string, number>();
const count = (k: string) => endings.set(k, (endings.get(k) ?? 0) + 1);

/** Runs one mutation; returns what went wrong, or null. */
async function scenario(m: Mutation, open: () => Promise<[Conn, Conn]>, quiet: () => Promise<void>): Promise<string | null> {
  const recorded = loadConn(m.conn);
  const lines = m.kind === 'truncated' ? [...recorded.slice(0, m.index), { dir: 'S>C' as const, bytes: m.bytes }] : recorded.map((l, i) => (i === m.index ? { ...l, bytes: m.bytes } : l));
  const [clientEnd, serverEnd] = await open();
  const problems: string[] = [];
  const clean = (e: unknown) => {
    if (!(e instanceof UbusError)) return problems.push(`not a UbusError: ${e instanceof Error ? e.stack : String(e)}`);
    count(e.code);
    // Behind a lost connection must be bad bytes or the end of the stream, not a bug of ours.
    for (let c: unknown = e.cause; c !== undefined; c = (c as Error).cause) {
      if (!(c instanceof UbusError || c instanceof MalformedError)) return problems.push(`internal error behind ${e.code}: ${(c as Error).stack ?? String(c)}`);
    }
  };
  let disconnected!: () => void;
  const gone = new Promise<void>((r) => (disconnected = r));
  const work = (async () => {
    let client: UbusClient;

    try {
      client = await connect({ connect: async () => clientEnd, reconnect: false, timeout: 2000, onEvent: (e) => e.type === 'disconnected' && disconnected() });
    } catch (e) {
      return clean(e);
    }
    try {
      await operation(m.conn)(client, gone);
      count('ok');
    } catch (e) {
      clean(e);
    } finally {
      client.close();
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), SCENARIO_LIMIT_MS)));
  const end = await Promise.race([Promise.all([work, playLoosely(serverEnd, lines, quiet)]), limit]);

  clearTimeout(timer);
  if (end === 'hang') problems.push(`no end within ${SCENARIO_LIMIT_MS} ms`);

  return problems.length ? `${m.conn} line ${m.index} ${m.kind} ${Buffer.from(m.bytes).toString('hex').slice(0, 64)}…: ${problems.join('; ')}` : null;
}

const stray: unknown[] = [];
const onStray = (e: unknown) => stray.push(e);

test.before(() => {
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);
});
test.after(() => {
  process.off('unhandledRejection', onStray);
  process.off('uncaughtException', onStray);
});

test(`client: ${fromServer.length} mutated ubusd messages, in memory, each end cleanly`, async () => {
  const failures: string[] = [];

  for (const m of fromServer) {
    const f = await scenario(m, async () => memPipe(), turns(4));

    if (f) failures.push(f);
  }
  await turns(10)();
  assert.equal(failures.slice(0, 5), [], `${failures.length} failures`);
  assert.equal(stray, [], 'no unhandled rejection or uncaught exception');
  // Mutations lead down many paths: success, failed connections, ubus statuses.
  const summary = Object.fromEntries([...endings].map(([k, n]) => [k.startsWith('UNKNOWN_') ? 'UNKNOWN_*' : k, n]));

  console.log('  endings:', JSON.stringify(summary));
  assert.ok((endings.get('ok') ?? 0) > 100 && (endings.get('CONNECTION_FAILED') ?? 0) > 10_000 && endings.size >= 4, JSON.stringify([...endings]));
});

test('client: every 40th mutation again over a real unix socket', async () => {
  const platform = nodePlatform([]);
  const path = join(tmpdir(), `ubus-fuzz-${process.pid}.sock`);
  const server = await platform.listen(path);
  const failures: string[] = [];
  const quiet = () => new Promise<void>((r) => setTimeout(r, 15));

  try {
    for (let i = 0; i < fromServer.length; i += 40) {
      const open = async (): Promise<[Conn, Conn]> => {
        const [client, accepted] = await Promise.all([platform.connect(path), server.accept()]);

        return [client, accepted!];
      };
      const f = await scenario(fromServer[i]!, open, quiet);

      if (f) failures.push(f);
    }
  } finally {
    server.close();
    await platform.remove(path).catch(() => undefined);
  }
  assert.equal(failures.slice(0, 5), [], `${failures.length} failures`);
  assert.equal(stray, []);
});

test.run();
