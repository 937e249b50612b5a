// The client's life beyond one request, against the recorded transcripts
// over a real unix socket: ubusd dying under a pending call, timeouts and
// late replies, reconnecting with backoff and registering objects, event
// listeners and subscriptions again (bytes checked against the recordings,
// with new ids and the seq counter continuing as libubus continues it).

import { join } from 'node:path';
import { tmpdir } from 'node:os';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { nodePlatform } from '../../firmware/platform/node.ts';
import { connect, type ClientEvent, type ClientOptions } from '../../firmware/ubus/client.ts';
import { UbusError } from '../../firmware/ubus/errors.ts';
import { rng } from '../lib/prng.ts';
import { ReplayServer } from '../lib/ubus-replay.ts';
import { loadConn, Variation } from '../lib/ubus-transcript.ts';

const SOCKET = join(tmpdir(), `ubus-client-${process.pid}.sock`);
const platform = nodePlatform([]);
let server: ReplayServer;

test.before.each(async () => {
  server = await ReplayServer.start(SOCKET);
});
test.after.each(async () => {
  await server.close();
});

function options(events: ClientEvent[], extra: Partial<ClientOptions> = {}): ClientOptions {
  return { connect: platform.connect, path: SOCKET, timeout: 3000, backoff: { initial: 20, max: 80 }, onEvent: (e) => events.push(e), ...extra };
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;

  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<UbusError> {
  return p.then(
    () => assert.unreachable('should have failed'),
    (e: unknown) => {
      assert.instance(e, UbusError);
      assert.is((e as UbusError).code, code);
      assert.match((e as Error).message, message, (e as Error).message);

      return e as UbusError;
    },
  ) as Promise<UbusError>;
}

test('a call pending when ubusd goes away fails with CONNECTION_FAILED, at once', async () => {
  // ubus call demo echo: ubusd dies after our INVOKE, before answering it.
  const playback = server.play(loadConn('c_publish_invoke.conn2'), { stopAfter: 5 });
  const events: ClientEvent[] = [];
  const client = await connect(options(events, { reconnect: false }));
  const started = Date.now();

  try {
    const e = await rejectsWith(client.call('demo', 'echo', { msg: 'hello' }), 'CONNECTION_FAILED', /invoke demo echo: connection to ubusd lost: ubusd closed the connection/);

    assert.is(e.op, 'invoke demo echo');
    assert.ok(Date.now() - started < 1000);
    assert.equal((await playback.result).errors, []);
    assert.is(client.connected, false);
    await rejectsWith(client.call('demo', 'echo'), 'CONNECTION_FAILED', /not connected to ubusd/);
    assert.equal(
      events.map((e) => e.type),
      ['connected', 'disconnected'],
    );
  } finally {
    client.close();
  }
});

test('a call times out with TIMEOUT; the late reply is ignored and the connection stays', async () => {
  // ubus call uci get: the DATA reply comes 300 ms late.
  const playback = server.play(loadConn('b1_call_uci_get.conn1'), { pause: { 5: 300 } });
  const events: ClientEvent[] = [];
  const client = await connect(options(events, { reconnect: false }));

  try {
    const started = Date.now();

    await rejectsWith(client.call('uci', 'get', { config: 'system', type: 'system' }, { timeout: 100 }), 'TIMEOUT', /invoke uci get: no reply within 100 ms/);
    assert.ok(Date.now() - started >= 95);
    await playback.scripted;
    await new Promise((r) => setTimeout(r, 50));
    assert.is(client.connected, true);
  } finally {
    client.close();
  }
  assert.equal((await playback.result).errors, []);
  assert.equal(
    events.map((e) => e.type),
    ['connected'],
  );
});

test('without ubusd: connect fails with CONNECTION_FAILED; a silent ubusd fails the greeting', async () => {
  await rejectsWith(connect(options([], { path: SOCKET + '.missing' })), 'CONNECTION_FAILED', /cannot connect to ubusd at .*missing/);
  server.play([], { stopAfter: 0, hold: true });
  await rejectsWith(connect(options([], { timeout: 100 })), 'CONNECTION_FAILED', /no greeting from ubusd.*no HELLO from ubusd within 100 ms/);
});

test('reconnect: backoff while ubusd is down, then the object is published again and answers', async () => {
  const events: ClientEvent[] = [];
  // The publisher of c_publish_invoke; ubusd dies after the first INVOKE was answered.
  const first = server.play(loadConn('c_publish_invoke.conn1'), { stopAfter: 7 });

  void first.scripted.then(() => server.stopListening());
  const client = await connect(options(events));
  const echoes: string[] = [];

  try {
    const obj = await client.publish('demo', {
      echo: { args: { msg: 'string' }, handler: ({ args }) => (echoes.push(String(args.msg)), { msg: args.msg as string, len: String(args.msg).length }) },
      add: { args: { a: 'int32', b: 'int32' }, handler: ({ args }) => ({ sum: (args.a as number) + (args.b as number) }) },
      notify_test: { handler: () => ({ sent: true }) },
    });

    assert.is(obj.id, 0xde3eef8c);
    assert.equal((await first.result).errors, []);
    await until('three failed reconnects', () => events.filter((e) => e.type === 'reconnect-failed').length >= 3);
    assert.is(obj.id, 0, 'no id while disconnected');
    await rejectsWith(client.list(), 'CONNECTION_FAILED', /not connected/);

    // ubusd is back: new ids; our ADD_OBJECT is seq 2 (libubus never resets the counter).
    const v = new Variation(rng(5), 1);
    const second = server.play(v.apply(loadConn('c_publish_invoke.conn1')));

    await server.listen();
    await second.scripted;
    await until('the second echo', () => echoes.length === 2);
    assert.is(obj.id, v.id(0xde3eef8c), 'the new object id');
    assert.equal(echoes, ['hello', 'hello']);
    client.close();
    assert.equal((await second.result).errors, []);
    const retries = events.flatMap((e) => (e.type === 'reconnect-failed' ? [e.retryIn] : []));

    assert.equal(retries.slice(0, 3), [40, 80, 80], 'backoff doubles up to max');
    assert.equal(
      events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]),
      ['connected', 'disconnected', 'reconnect-failed', 'connected'],
    );
  } finally {
    client.close();
  }
});

test('reconnect: an event listener registers again (new object id in "register") and hears events', async () => {
  const events: ClientEvent[] = [];
  // ubus listen demo.event; ubusd dies after confirming the registration.
  const first = server.play(loadConn('d_event.conn1'), { stopAfter: 6 });
  const client = await connect(options(events));
  const heard: unknown[] = [];

  try {
    await client.listen('demo.event', (e) => void heard.push([e.name, e.data]));
    assert.equal((await first.result).errors, []);
    const v = new Variation(rng(11), 2);
    const second = server.play(v.apply(loadConn('d_event.conn1')));

    await second.scripted;
    await until('the event', () => heard.length === 1);
    assert.equal(heard, [['demo.event', { x: 1, s: 'str', ok: true }]]);
    client.close();
    assert.equal((await second.result).errors, []);
  } finally {
    client.close();
  }
});

test('reconnect: a subscription subscribes again and gets notifications', async () => {
  const events: ClientEvent[] = [];
  // ubus subscribe demo; ubusd dies after confirming the subscription.
  const first = server.play(loadConn('e_subscribe_notify.conn2'), { stopAfter: 9 });
  const client = await connect(options(events));
  const got: unknown[] = [];

  try {
    const sub = await client.subscribe('demo', (n) => void got.push([n.type, n.data]));

    assert.is(sub.target, 2855061527);
    assert.equal((await first.result).errors, []);
    const v = new Variation(rng(3), 3);
    const second = server.play(v.apply(loadConn('e_subscribe_notify.conn2')));

    await second.scripted;
    await until('the notification', () => got.length === 1);
    assert.equal(got, [['demo.notification', { hello: 'subscribers', n: 42 }]]);
    assert.is(sub.target, v.id(2855061527));
    client.close();
    assert.equal((await second.result).errors, []);
  } finally {
    client.close();
  }
});

test('an object removed while ubusd is away is not published again', async () => {
  const first = server.play(loadConn('c_publish_invoke.conn1'), { stopAfter: 4 });
  const client = await connect(options([]));

  try {
    // (the recorded signature, or the recorded ADD_OBJECT would not match)
    const obj = await client.publish('demo', {
      echo: { args: { msg: 'string' }, handler: () => undefined },
      add: { args: { a: 'int32', b: 'int32' }, handler: () => undefined },
      notify_test: { handler: () => undefined },
    });

    assert.equal((await first.result).errors, []);
    await obj.remove(); // disconnected: nothing to send
    // ubusd is back and only says HELLO: we must not send anything.
    const second = server.play(loadConn('c_publish_invoke.conn1').slice(0, 1));

    await until('reconnected', () => client.connected);
    await new Promise((r) => setTimeout(r, 100));
    client.close();
    assert.equal((await second.result).errors, []);
  } finally {
    client.close();
  }
});

test('close() fails pending calls and stops reconnecting', async () => {
  let connects = 0;
  const playback = server.play(loadConn('b1_call_uci_get.conn1'), { stopAfter: 5, hold: true });
  const client = await connect(options([], { connect: (p) => (connects++, platform.connect(p)) }));
  const pending = client.call('uci', 'get', { config: 'system', type: 'system' });

  await new Promise((r) => setTimeout(r, 50)); // the INVOKE is out, no answer comes
  client.close();
  await rejectsWith(pending, 'CONNECTION_FAILED', /ubus client closed/);
  assert.equal((await playback.result).errors, []);
  await new Promise((r) => setTimeout(r, 100));
  assert.is(connects, 1);
});

test.run();
