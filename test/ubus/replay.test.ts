// Conformance against real ubusd: every recorded connection is replayed over
// a real unix socket, ubusd's side from the file, our client doing what the
// recorded client did. Our client's bytes must equal the recorded ones and
// what we decode, printed the way the `ubus` CLI prints, must equal what it
// printed. Each replay runs verbatim and with the run-to-run variables
// (ids, seqs, session id) changed, as whole messages, batched, and byte by byte.

import { join } from 'node:path';
import { tmpdir } from 'node:os';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { connect, type ClientEvent, type PublishedObject, type UbusClient } from '../../firmware/ubus/client.ts';
import type { Field } from '../../firmware/ubus/blobmsg.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { rng } from '../lib/prng.ts';
import { cliCall, cliEvent, cliList, type CliOutput } from '../lib/ubus-cli.ts';
import { ReplayServer, type Chunking } from '../lib/ubus-replay.ts';
import { allConns, loadConn, readFixture, Variation } from '../lib/ubus-transcript.ts';

const SOCKET = join(tmpdir(), `ubus-replay-${process.pid}.sock`);
const platform = nodePlatform([]);
let server: ReplayServer;

test.before(async () => {
  server = await ReplayServer.start(SOCKET);
});
test.after(async () => {
  await server.close();
});

interface Run {
  client: UbusClient;
  /** Resolves when ubusd's side of the transcript has been fully played. */
  scripted: Promise<void>;
  events: ClientEvent[];
}

/** The expected CLI text: a whole file, or the n-th "$ command" block of one. */
function expected(file: string, block?: number): string {
  const text = readFixture(file);

  if (block === undefined) return text;

  return text.split(/^\$ .*\n/m).slice(1)[block]!;
}

const shown = (o: CliOutput) => o.stdout + o.stderr;
const shownWithRc = (o: CliOutput) => shown(o) + `rc=${o.rc}\n`;

function demoMethods(onNotify: (p: Promise<unknown>) => void) {
  return {
    echo: {
      args: { msg: 'string' as const },
      handler: ({ args, user, group }: { args: Record<string, unknown>; user?: string; group?: string }) => {
        assert.is(user, 'root');
        assert.is(group, 'root');

        return { msg: args.msg as string, len: (args.msg as string).length };
      },
    },
    add: { args: { a: 'int32' as const, b: 'int32' as const }, handler: ({ args }: { args: Record<string, unknown> }) => ({ sum: (args.a as number) + (args.b as number) }) },
    notify_test: {
      handler: (_req: unknown, self: PublishedObject) => {
        // As the recorded publisher: notify without waiting, then answer.
        onNotify(self.notify('demo.notification', { hello: 'subscribers', n: 42 }));

        return { sent: true };
      },
    },
  };
}

async function publisher(run: Run, v: Variation, activity?: boolean[]): Promise<string> {
  let notified: Promise<unknown> | undefined;
  const obj = await run.client.publish(
    'demo',
    demoMethods((p) => (notified = p)),
    { onSubscribers: (a) => activity?.push(a) },
  );
  const out = `published ${obj.name}\n`;

  await run.scripted;
  if (notified) {
    // ubusd listed one subscriber, and that subscriber answered 0.
    assert.equal(await notified, [{ id: v.id(0x0b9d48a6), status: 0 }]);
  }

  return out;
}

async function firstDelivery(register: (deliver: (name: string, fields: Field[]) => void) => Promise<unknown>, run: Run): Promise<string> {
  let line = '';

  await register((name, fields) => (line += cliEvent(name, fields)));
  await run.scripted;

  return line;
}

/** Per recorded connection: what our client does, and what it should print. */
const CASES: Record<string, { expect: string; run: (r: Run, v: Variation) => Promise<string> }> = {
  'a1_list.conn1': { expect: expected('a1_list.stdout'), run: async (r) => shown(await cliList(r.client, undefined, false)) },
  'a2_list_verbose.conn1': { expect: expected('a2_list_verbose.stdout'), run: async (r) => shown(await cliList(r.client, undefined, true)) },
  'a3_list_verbose_pattern.conn1': {
    expect: expected('a3_list_verbose_pattern.stdout'),
    run: async (r) => shown(await cliList(r.client, 'network.interface.*', true)),
  },
  'b1_call_uci_get.conn1': {
    expect: expected('b1_call_uci_get.stdout'),
    run: async (r) => shown(await cliCall(r.client, ['uci', 'get', '{"config":"system","type":"system"}'])),
  },
  'b2_call_errors.conn1': { expect: expected('b2_call_errors.stdout', 0), run: async (r) => shownWithRc(await cliCall(r.client, ['uci', 'get', '{"config":"nonexistent"}'])) },
  'b2_call_errors.conn2': { expect: expected('b2_call_errors.stdout', 1), run: async (r) => shownWithRc(await cliCall(r.client, ['uci', 'nosuchmethod', '{}'])) },
  'b2_call_errors.conn3': { expect: expected('b2_call_errors.stdout', 2), run: async (r) => shownWithRc(await cliCall(r.client, ['nosuchobject', 'foo', '{}'])) },
  'b2_call_errors.conn4': { expect: expected('b2_call_errors.stdout', 3), run: async (r) => shownWithRc(await cliCall(r.client, ['uci', 'get', '{"config":123}'])) },
  'b3_call_session_login.conn1': {
    expect: expected('b3_call_session_login.stdout'),
    run: async (r) => shown(await cliCall(r.client, ['session', 'login', '{"username":"root","password":"rig"}'])),
  },
  'c_publish_invoke.conn1': { expect: expected('c_publish_invoke.publisher.stdout'), run: (r, v) => publisher(r, v) },
  'c_publish_invoke.conn2': { expect: expected('c_publish_invoke.stdout', 0), run: async (r) => shown(await cliCall(r.client, ['demo', 'echo', '{"msg":"hello"}'])) },
  'c_publish_invoke.conn3': { expect: expected('c_publish_invoke.stdout', 1), run: async (r) => shown(await cliCall(r.client, ['demo', 'add', '{"a":2,"b":40}'])) },
  'c_publish_invoke.conn4': { expect: expected('c_publish_invoke.stdout', 2), run: async (r) => shown(await cliList(r.client, 'demo', true)) },
  'd_event.conn1': {
    expect: expected('d_event.listener.stdout'),
    run: (r) => firstDelivery((deliver) => r.client.listen('demo.event', (e) => deliver(e.name, e.fields)), r),
  },
  'd_event.conn2': {
    expect: expected('d_event.stdout'),
    run: async (r) => {
      await r.client.send('demo.event', { x: 1, s: 'str', ok: true });

      return '';
    },
  },
  'e_subscribe_notify.conn1': {
    expect: expected('e_subscribe_notify.publisher.stdout'),
    run: async (r, v) => {
      const activity: boolean[] = [];
      const out = await publisher(r, v, activity);

      // The last message (ACTIVE 0) has been sent; give the client a moment to read it.
      for (let i = 0; i < 100 && activity.length < 2; i++) await new Promise((t) => setTimeout(t, 5));
      assert.equal(activity, [true, false], 'NOTIFY ACTIVE 1 then 0 reach onSubscribers');

      return out;
    },
  },
  'e_subscribe_notify.conn2': {
    expect: expected('e_subscribe_notify.subscriber.stdout'),
    run: (r) => firstDelivery((deliver) => r.client.subscribe('demo', (n) => deliver(n.type, n.fields)), r),
  },
  'e_subscribe_notify.conn3': { expect: expected('e_subscribe_notify.stdout'), run: async (r) => shown(await cliCall(r.client, ['demo', 'notify_test'])) },
};

const SESSION = '2a11776a0fc1b8754c2f4b99b7394b2c';

async function replay(conn: string, v: Variation, chunking: Chunking): Promise<void> {
  const c = CASES[conn]!;
  const playback = server.play(v.apply(loadConn(conn)), { chunking });
  const events: ClientEvent[] = [];
  const client = await connect({ connect: platform.connect, path: SOCKET, reconnect: false, timeout: 5000, onEvent: (e) => events.push(e) });
  let printed: string | Error;

  try {
    printed = await c.run({ client, scripted: playback.scripted, events }, v);
    await playback.scripted;
  } catch (e) {
    printed = e as Error;
  } finally {
    client.close();
  }
  const result = await playback.result;

  // Wrong bytes explain everything after them: report them first.
  assert.equal(result.errors, [], `${conn}: client bytes`);
  if (printed instanceof Error) throw printed;
  assert.is(printed, v.text(c.expect), `${conn}: printed`);
  assert.equal(
    events.filter((e) => e.type !== 'connected'),
    [],
    `${conn}: no handler failures`,
  );
}

test('every recorded connection has a replay case', () => {
  assert.equal(allConns(), Object.keys(CASES).sort());
});

for (const conn of Object.keys(CASES)) {
  test(`${conn}: verbatim, one write per message`, () => replay(conn, Variation.none(), 'message'));
  test(`${conn}: ids/seqs/session varied, messages batched`, () => replay(conn, new Variation(rng(7 + conn.length)).withSession(SESSION), 'batch'));
  test(`${conn}: ids/seqs/session varied, byte by byte`, () => replay(conn, new Variation(rng(99 + conn.length * 3)).withSession(SESSION), 'bytes'));
}

test.run();
