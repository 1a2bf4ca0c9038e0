// Package bodies under abuse: at most limits.concurrentPackages are handled at once (more are
// refused unread, 503 + Retry-After), and a client that goes away mid-body is a client error.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PATHS } from '../../../src/shared/protocol.js';
import { until } from '../../support/browser.js';
import { makeMessages, makePackage, makeSummary } from './fixtures.js';
import { KEYS, startTestCollector, type TestCollector } from './harness.js';

/** A request body that sends `head`, tells when the collector has asked for more, and ends on `finish()`. */
const heldBody = (head: Uint8Array, rest: Uint8Array) => {
  let asked!: () => void;
  const reading = new Promise<void>((r) => (asked = r));
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (sent === 0) {
        sent++;
        ctl.enqueue(head);
        return;
      }
      asked();
      await finished;
      ctl.enqueue(rest);
      ctl.close();
    },
  });
  return { stream, reading, finish };
};

describe('concurrent package bodies are capped', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector({ over: { limits: { concurrentPackages: 2 } } });
  });
  after(() => t.close());

  const post = (body: BodyInit, path: string = PATHS.packages) =>
    t.req(path, { method: 'POST', key: KEYS.all, headers: { 'content-type': 'application/zip' }, body });

  test('beyond the cap a package is refused unread with 503 and Retry-After; a freed slot serves again', async () => {
    const packages = Array.from({ length: 3 }, () => {
      const s = makeSummary();
      return makePackage([{ summary: s, messages: makeMessages(s.id, 50) }]);
    });
    const held = packages.slice(0, 2).map((zip) => heldBody(zip.subarray(0, 100), zip.subarray(100)));
    const pending = held.map((h) => post(h.stream));
    // Both slots are taken once the collector is reading both bodies.
    await Promise.all(held.map((h) => h.reading));
    const third = packages[2];
    assert.ok(third);
    const refused = await post(third as Uint8Array<ArrayBuffer>);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '10');
    assert.equal(((await refused.json()) as { error: string }).error, 'busy');
    for (const h of held) h.finish();
    for (const r of await Promise.all(pending)) assert.equal(r.status, 200, await r.text());
    assert.equal((await post(third as Uint8Array<ArrayBuffer>)).status, 200, 'slots are released');
    // A refused or failed package releases its slot too.
    for (let i = 0; i < 4; i++) assert.equal((await post(new Uint8Array([1, 2, 3]))).status, 400);
    assert.equal((await post(third as Uint8Array<ArrayBuffer>)).status, 200);
  });
});

const inFlight = (metrics: string): number => Number(/^ferry_requests_in_flight (\d+)$/m.exec(metrics)?.[1] ?? 0);

describe('a client aborting mid-body', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector({ listen: true });
  });
  after(() => t.close());

  for (const [name, type] of [
    ['a raw package', 'application/zip'],
    ['a multipart package', 'multipart/form-data; boundary=x'],
    ['summaries', 'application/json'],
  ] as const) {
    test(`${name}: logged as a 400 client abort, not an unhandled error`, async () => {
      const path = name === 'summaries' ? PATHS.summaries : PATHS.packages;
      const url = new URL(t.collector.url);
      const from = t.logs.length;
      const socket = connect(Number(url.port), url.hostname);
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Ferry ${KEYS.all}\r\nContent-Type: ${type}\r\nContent-Length: 100000\r\n\r\n`);
      socket.write(Buffer.alloc(1000, 0x50));
      // The collector has the headers and part of the body, is waiting for the rest: cut it off.
      await until(async () => inFlight(await (await t.req('/metrics', { admin: true })).text()) > 1, 'the request in flight (besides this one)');
      socket.destroy();
      const logged = await until(() => t.logs.slice(from).find((r) => r.msg === 'request' && r.path === path), 'the request logged');
      assert.equal(logged.status, 400);
      assert.equal(logged.error, 'bad-request');
      assert.equal(
        t.logs.some((r) => r.msg === 'unhandled error'),
        false,
        'no unhandled error',
      );
    });
  }
});
