// OncePerInterval: the daemon's sessions report is read once per interval
// however many callers ask, shared while it runs, and never while nobody asks.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { OncePerInterval } from '../../firmware/daemon/once.ts';

function counted() {
  let clock = 0;
  let runs = 0;
  const release: Array<(n: number) => void> = [];
  const once = new OncePerInterval(() => {
    runs++;

    return new Promise<number>((resolve) => release.push(resolve));
  }, 1000, () => clock);

  return { once, runs: () => runs, tick: (ms: number) => (clock += ms), settle: (n: number) => release.shift()!(n) };
}

test('nothing runs until somebody asks', () => {
  const c = counted();

  c.tick(60_000);
  assert.is(c.runs(), 0);
});

test('callers within one interval share one run, also while it is still running', async () => {
  const c = counted();
  const a = c.once.get();

  c.tick(10);
  const b = c.once.get();

  assert.is(c.runs(), 1);
  c.settle(7);
  assert.equal([await a, await b], [7, 7]);
  c.tick(500);
  assert.is(await c.once.get(), 7);
  assert.is(c.runs(), 1);
});

test('the next interval runs again; forget() and a failure make the next call run', async () => {
  const c = counted();
  const first = c.once.get();

  c.settle(1);
  await first;
  c.tick(1000);
  const second = c.once.get();

  assert.is(c.runs(), 2);
  c.settle(2);
  assert.is(await second, 2);
  c.once.forget();
  void c.once.get();
  assert.is(c.runs(), 3);

  let fail = true;
  const flaky = new OncePerInterval(async () => {
    if (fail) throw new Error('no table');

    return 'ok';
  }, 1000, () => 0);

  await flaky.get().then(() => assert.unreachable(), (e: Error) => assert.is(e.message, 'no table'));
  fail = false;
  assert.is(await flaky.get(), 'ok');
});

test.run();
