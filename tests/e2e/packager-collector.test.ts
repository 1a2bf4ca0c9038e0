// The packager's `server` and `email` destinations against a real collector (and a real SMTP
// peer behind it): what was stored or relayed, what was marked locally, and the diagnostics of
// a package the collector did not take.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { firstAttachment, startSmtp, type TestSmtp } from '../support/smtp.js';
import { KEYS } from '../unit/server/harness.js';
import { openPackagerPage } from './packager-page.js';

let smtp: TestSmtp;
const e2e = useBrowserServerAndCollector(
  async () => {
    smtp = await startSmtp();
    return {
      email: { smtp: { host: smtp.host, port: smtp.port, secure: false }, from: 'ferry@collector.test', to: ['support@example.com'] },
      products: { demo: { policy: 'none', keys: [{ key: KEYS.all, origins: ['*'] }] } },
    };
  },
  () => smtp?.close(),
);

/** A page with three stored sessions of product `demo` and the agent started against `url`. */
const setup = async (url: string, key: string = KEYS.all, packager: Record<string, boolean> = {}): Promise<{ page: Page; close(): Promise<void> }> => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  await page.evaluate(
    async ([url, key, packager]) => {
      const { Ferry, Fx } = PW();
      (window as unknown as { seeded: unknown }).seeded = await Fx.seed('demo', [
        { application: 'editor', severities: ['information', 'warning'] },
        { application: 'editor', status: 'crashed', severities: ['error', 'information', 'verbose'] },
        { application: 'viewer', severities: ['critical'] },
      ]);
      Ferry.init({ product: 'demo', application: 'editor', version: '1', server: { url, ingestKey: key }, packager });
      await Ferry.ready();
    },
    [url, key, packager] as const,
  );
  return { page, close: () => context.close() };
};

const seededIds = (page: Page) => page.evaluate(() => (window as unknown as { seeded: { id: string }[] }).seeded.map((s) => s.id));

test('server: the package is stored whole at the collector; its sessions are marked sent and packaged', async () => {
  const { page, close } = await setup(e2e.collector.collector.url);
  const ids = await seededIds(page);
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    Ferry.log.error('Save', 'failed while reporting');
    const phases: string[] = [];
    const sent = await Ferry.packager.send({
      criteria: ['completed', 'active'],
      destination: 'server',
      description: 'Saving failed twice',
      replyTo: 'user@example.com',
      onProgress: (p) => phases.push(p.phase),
    });
    const again = await Ferry.packager.send({ criteria: ['new'], destination: 'server' });
    return {
      sent: { ...sent, blob: undefined },
      again: again.status,
      phases: [...new Set(phases)],
      current: Ferry.getSessionId()!,
      stored: await Fx.sessions('demo'),
    };
  });
  assert.equal(r.sent.status, 'sent');
  assert.equal(r.sent.destination, 'server');
  assert.deepEqual(r.phases, ['selecting', 'packaging', 'saving', 'done']);
  assert.equal(r.sent.receipt?.kind, 'server');
  const reply = r.sent.receipt!.reply!;
  assert.deepEqual(
    reply.sessions.map((s) => s.stored),
    ['new', 'new', 'new', 'new'],
  );
  assert.deepEqual(new Set(reply.sessions.map((s) => s.id)), new Set([...ids, r.current]));
  // At the collector: every session with its messages, whatever the product's policy ("none").
  const crashed = await e2e.collector.collector.store.getSession(ids[1]);
  assert.equal(crashed?.source, 'package');
  assert.equal(crashed?.packageId, reply.package);
  assert.equal(crashed?.detail?.messageCount, 3);
  assert.equal(crashed?.summary.status, 'crashed');
  const live = await e2e.collector.collector.store.getSession(r.current);
  assert.equal(live?.summary.status, 'running');
  assert.ok((live?.detail?.counts.error ?? 0) >= 1, 'the active session up to the moment of packaging');
  const pkgs = await e2e.collector.collector.store.listPackages(10);
  assert.equal(pkgs.find((p) => p.id === reply.package)?.description, 'Saving failed twice');
  // Locally: the three completed sessions are sent whole (the sender will not send them again)
  // and packaged; the running one is recorded as sent only up to what the package held, so it is
  // summarised and sent again, complete, once it ends.
  assert.deepEqual([...r.sent.marked].sort(), [...ids, r.current].sort());
  const local = new Map(r.stored.map((s) => [s.id, s]));
  for (const id of ids) {
    assert.equal(local.get(id)?.detailState, 'sent');
    assert.ok((local.get(id)?.sentAt ?? 0) > 0 && (local.get(id)?.packagedAt ?? 0) > 0);
  }
  const packagedLive = r.sent.sessions.find((s) => s.id === r.current)!;
  assert.equal(local.get(r.current)?.detailState, 'partial');
  assert.equal(local.get(r.current)?.sentSeq, packagedLive.lastSeq);
  assert.equal(local.get(r.current)?.summaryStatus, 'running');
  assert.equal(r.again, 'empty', '`new` leaves out what the server stored');
  await close();
});

test('email: the collector relays the package to the recipients configured for the product; sessions are packaged, not sent', async () => {
  const { page, close } = await setup(e2e.collector.collector.url);
  const ids = await seededIds(page);
  const before = smtp.messages.length;
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    const sent = await Ferry.packager.send({ criteria: ['error', 'critical'], destination: 'email', description: 'Crash on open' });
    return { sent: { ...sent, blob: undefined }, stored: await Fx.sessions('demo') };
  });
  assert.equal(r.sent.status, 'sent');
  assert.equal(r.sent.receipt?.kind, 'email');
  assert.ok(r.sent.receipt?.kind === 'email' && r.sent.receipt.reply?.messageId);
  assert.equal(smtp.messages.length, before + 1);
  const mail = smtp.messages[before];
  assert.deepEqual(mail.to, ['support@example.com']);
  const text = mail.raw.replace(/=\r?\n/g, ''); // undo quoted-printable soft line breaks
  assert.ok(text.includes(ids[1]) && text.includes(ids[2]) && !text.includes(ids[0]), 'the mail lists the error and critical sessions');
  assert.equal(firstAttachment(mail.raw)?.content.length, r.sent.bytes, 'the package itself is attached');
  assert.equal(await e2e.collector.collector.store.getSession(ids[1]), undefined, 'relayed, not stored');
  const local = new Map(r.stored.map((s) => [s.id, s]));
  assert.ok((local.get(ids[1])?.packagedAt ?? 0) > 0);
  assert.equal(local.get(ids[1])?.sentAt, undefined);
  await close();
});

test('a collector that cannot be reached, or refuses, rejects with diagnostics and marks nothing', async () => {
  // Port 1: nothing listens there, and no other test's server can be given it (a closed
  // ephemeral port can be, which once made this case see an answer instead of a network error).
  const deadUrl = 'http://127.0.0.1:1';
  for (const [url, key] of [
    [deadUrl, KEYS.all],
    [e2e.collector.collector.url, 'wrong-key-0000000000000000'],
  ] as const) {
    const { page, close } = await setup(url, key);
    const ids = await seededIds(page);
    const r = await page.evaluate(async () => {
      const { Ferry, Fx } = PW();
      const failure = await Ferry.packager.send({ criteria: ['completed'], destination: 'server' }).then(
        () => undefined,
        (e: Error & { url?: string; status?: number; retryable?: boolean; sent?: string[]; notSent?: string[]; body?: { error: string } }) => ({
          name: e.name,
          message: e.message,
          url: e.url,
          status: e.status,
          retryable: e.retryable,
          sent: e.sent,
          notSent: e.notSent,
          error: e.body?.error,
        }),
      );
      return { failure, stored: await Fx.sessions('demo'), stillNew: (await Ferry.packager.preview({ criteria: ['new'] })).length };
    });
    const f = r.failure;
    assert.ok(f, 'the send rejected');
    assert.equal(f.name, 'PackageSendError');
    assert.equal(f.url, `${url}/api/v1/packages`);
    assert.deepEqual(f.sent, []);
    assert.deepEqual([...(f.notSent ?? [])].sort(), [...ids].sort());
    assert.match(f.message, /nothing was sent \(3 sessions kept locally, unsent\)/);
    if (url === deadUrl) {
      assert.equal(f.status, undefined);
      assert.equal(f.retryable, true);
      assert.match(f.message, /network error/);
    } else {
      assert.equal(f.status, 401);
      assert.equal(f.retryable, false);
      assert.equal(f.error, 'unauthorized');
    }
    assert.ok(
      r.stored.every((s) => s.packagedAt === undefined && s.sentAt === undefined),
      'nothing marked',
    );
    assert.equal(r.stillNew, 3);
    await close();
  }
});

test('server and email need init({ server }), and each destination can be switched off', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Ferry } = PW();
    Ferry.init({ product: 'bare', application: 'a', version: '1', packager: { allowServer: false, allowEmail: true, allowFile: false } });
    await Ferry.ready();
    Ferry.log.information('x', 'y');
    const outcome = (destination: string) =>
      Ferry.packager.send({ criteria: ['active'], destination: destination as never }).then(
        (x) => x.status,
        (e: Error & { code?: string }) => `${e.name}(${e.code}): ${e.message}`,
      );
    return {
      server: await outcome('server'),
      email: await outcome('email'),
      file: await outcome('file'),
      download: await outcome('download'),
      blob: await outcome('blob'),
    };
  });
  assert.equal(r.server, 'PackagerError(not-allowed): destination "server" is switched off (packager.allowServer: false)');
  assert.equal(r.email, 'PackagerError(unavailable): destination "email" needs init({ server: { url, ingestKey } })');
  assert.match(r.file, /^PackagerError\(not-allowed\): destination "file"/);
  assert.match(r.download, /^PackagerError\(not-allowed\): destination "download" is switched off \(packager.allowFile: false\)/);
  assert.equal(r.blob, 'sent');
  await context.close();
});
