// How a published object answers what ubusd forwards, beyond the recorded
// happy path: the recorded INVOKE of c_publish_invoke, altered, is fed to our
// publisher and its replies are decoded. Expected behaviour is libubus-obj.c's
// ubus_process_invoke(): data then status, statuses from thrown UbusErrors,
// METHOD_NOT_FOUND, INVALID_ARGUMENT without data, no status with NO_REPLY,
// NOT_FOUND (unaddressed, as libubus sends it) for an unknown object.
// Also: the request seq is a uint16 that wraps to 0, as libubus's does.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Conn } from '../../firmware/platform/platform.ts';
import { connect, type ClientEvent, type MethodSpec, type UbusClient } from '../../firmware/ubus/client.ts';
import { UbusError } from '../../firmware/ubus/errors.ts';
import { decodeMessage, encodeMessage, FrameReader, MSG, type Message } from '../../firmware/ubus/message.ts';
import { signatureOf } from '../../firmware/ubus/objects.ts';
import { toTable } from '../../firmware/ubus/value.ts';
import { memPipe } from '../lib/mempipe.ts';
import { loadConn } from '../lib/ubus-transcript.ts';

const recorded = loadConn('c_publish_invoke.conn1');
const INVOKE_ECHO = decodeMessage(recorded[4]!.bytes);
const OBJID = 0xde3eef8c;

/** Reads whole messages off the ubusd end of a pipe. */
function replies(server: Conn) {
  const reader = new FrameReader();
  const got: Message[] = [];

  void (async () => {
    for (let chunk = await server.read(); chunk; chunk = await server.read()) {
      reader.push(chunk);
      for (let f = reader.next(); f; f = reader.next()) got.push(decodeMessage(f));
    }
  })();

  return got;
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

/** Publishes `demo` with `methods` (answering the recorded ADD_OBJECT), sends
 * `invoke`, returns what our client answered. */
async function answerTo(methods: Record<string, MethodSpec>, invoke: Message, waitMs = 0): Promise<{ out: Message[]; events: ClientEvent[] }> {
  const [clientEnd, serverEnd] = memPipe();
  const events: ClientEvent[] = [];
  const got = replies(serverEnd);

  await serverEnd.write(recorded[0]!.bytes); // HELLO
  const client = await connect({ connect: async () => clientEnd, reconnect: false, onEvent: (e) => events.push(e) });

  try {
    const publishing = client.publish('demo', methods);

    await settle();
    await serverEnd.write(recorded[2]!.bytes); // DATA {objid, objtype}
    await serverEnd.write(recorded[3]!.bytes); // STATUS 0
    await publishing;
    got.length = 0;
    await serverEnd.write(encodeMessage(invoke));
    await settle();
    if (waitMs) await new Promise((r) => setTimeout(r, waitMs));

    return { out: [...got], events: events.filter((e) => e.type !== 'connected') };
  } finally {
    client.close();
  }
}

const reply = (type: number, attrs: Message['attrs']): Message => ({ type, seq: INVOKE_ECHO.seq, peer: INVOKE_ECHO.peer, attrs });

test('a table returned: DATA with it, then STATUS 0 (the recorded answer)', async () => {
  const { out } = await answerTo({ echo: { args: { msg: 'string' }, handler: ({ args }) => ({ msg: args.msg as string, len: 5 }) } }, INVOKE_ECHO);

  assert.equal(
    out.map((m) => Buffer.from(encodeMessage(m)).toString('hex')),
    [recorded[5]!.bytes, recorded[6]!.bytes].map((b) => Buffer.from(b).toString('hex')),
  );
});

test('a UbusError thrown with data: DATA with the data, then its status', async () => {
  const { out } = await answerTo(
    {
      echo: {
        handler: () => {
          throw new UbusError('INVALID_ARGUMENT', 'hosts: not an address', { data: { field: 'hosts', message: 'not an address' } });
        },
      },
    },
    INVOKE_ECHO,
  );

  assert.equal(out.length, 2);
  assert.equal([out[0]!.type, out[0]!.seq, out[0]!.peer, out[0]!.attrs.objid], [MSG.DATA, INVOKE_ECHO.seq, INVOKE_ECHO.peer, OBJID]);
  assert.equal(toTable(out[0]!.attrs.data!), { field: 'hosts', message: 'not an address' });
  assert.equal(out[1], reply(MSG.STATUS, { status: 2, objid: OBJID }));
});

test('a plain exception: STATUS UNKNOWN_ERROR, and the client reports it', async () => {
  const { out, events } = await answerTo(
    {
      echo: {
        handler: () => {
          throw new Error('boom');
        },
      },
    },
    INVOKE_ECHO,
  );

  assert.equal(out, [reply(MSG.STATUS, { status: 9, objid: OBJID })]);
  assert.equal(
    events.map((e) => e.type === 'handler-failed' && [e.where, (e.error as Error).message]),
    [['demo.echo', 'boom']],
  );
});

test('an async handler answers when it resolves', async () => {
  const { out } = await answerTo({ echo: { handler: () => new Promise((r) => setTimeout(() => r({ late: true }), 5)) } }, INVOKE_ECHO, 30);

  assert.equal(
    out.map((m) => [m.type, m.attrs.data && toTable(m.attrs.data), m.attrs.status]),
    [
      [MSG.DATA, { late: true }, undefined],
      [MSG.STATUS, undefined, 0],
    ],
  );
});

test('unknown method: METHOD_NOT_FOUND; no DATA attribute: INVALID_ARGUMENT', async () => {
  const methods = { echo: { handler: () => ({ x: 1 }) } };
  const unknown = await answerTo(methods, { ...INVOKE_ECHO, attrs: { ...INVOKE_ECHO.attrs, method: 'nosuch' } });

  assert.equal(unknown.out, [reply(MSG.STATUS, { status: 3, objid: OBJID })]);
  const { data: _, ...noData } = INVOKE_ECHO.attrs;
  const invalid = await answerTo(methods, { ...INVOKE_ECHO, attrs: noData });

  assert.equal(invalid.out, [reply(MSG.STATUS, { status: 2, objid: OBJID })]);
});

test('NO_REPLY: the handler runs, its data goes out, no STATUS', async () => {
  let ran = 0;
  const { out } = await answerTo({ echo: { handler: () => (ran++, { ok: true }) } }, { ...INVOKE_ECHO, attrs: { ...INVOKE_ECHO.attrs, noReply: 1 } });

  assert.is(ran, 1);
  assert.equal(
    out.map((m) => m.type),
    [MSG.DATA],
  );
});

test('an object we do not have: NOT_FOUND with seq, peer and object 0, as libubus sends it', async () => {
  const { out } = await answerTo({ echo: { handler: () => undefined } }, { ...INVOKE_ECHO, attrs: { ...INVOKE_ECHO.attrs, objid: 12345 } });

  assert.equal(out, [{ type: MSG.STATUS, seq: 0, peer: 0, attrs: { status: 4, objid: 0 } }]);
});

test("signatures: each argument's blobmsg type code; 'boolean' is int8 (7), which `ubus -v list` shows as Boolean", () => {
  const sig = signatureOf({ set: { args: { protocol: 'string', enabled: 'boolean', hosts: 'array' }, handler: () => undefined }, apply: { handler: () => undefined } });

  assert.equal(toTable(sig), { set: { protocol: 3, enabled: 7, hosts: 1 }, apply: {} });
});

test('request seqs count 1, 2, ... and wrap from 65535 to 0', async () => {
  const [clientEnd, serverEnd] = memPipe();
  const missing = loadConn('b2_call_errors.conn3'); // LOOKUP nosuchobject -> STATUS 4
  const status = decodeMessage(missing[2]!.bytes);
  const seqs: number[] = [];
  const reader = new FrameReader();

  // ubusd's side: answer each request with the recorded STATUS, under its seq.
  void (async () => {
    for (let chunk = await serverEnd.read(); chunk; chunk = await serverEnd.read()) {
      reader.push(chunk);
      for (let f = reader.next(); f; f = reader.next()) {
        const { seq } = decodeMessage(f);

        seqs.push(seq);
        await serverEnd.write(encodeMessage({ ...status, seq }));
      }
    }
  })();
  await serverEnd.write(missing[0]!.bytes);
  const client: UbusClient = await connect({ connect: async () => clientEnd, reconnect: false });

  try {
    for (let batch = 0; batch < 66; batch++) {
      const codes = await Promise.all(Array.from({ length: 1000 }, () => client.lookupId('nosuchobject').catch((e: UbusError) => e.code)));

      assert.ok(codes.every((c) => c === 'NOT_FOUND'));
    }
  } finally {
    client.close();
  }
  assert.equal(seqs.slice(0, 3), [1, 2, 3]);
  assert.equal(seqs.slice(65533, 65538), [65534, 65535, 0, 1, 2]);
});

test.run();
