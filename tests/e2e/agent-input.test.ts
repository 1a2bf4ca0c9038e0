import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { MESSAGE_LIMITS } from '../../src/shared/message.js';
import { openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserAndServer } from '../support/e2e.js';

const e2e = useBrowserAndServer();

/** A page that records page errors and console warnings, so tests can assert none escaped. */
const watchedPage = async (): Promise<{ page: Page; pageErrors: string[]; warnings: string[]; close(): Promise<void> }> => {
  const context = await e2e.browser.newContext();
  const page = await openAgentPage(context, e2e.server.url);
  const pageErrors: string[] = [];
  const warnings: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  return { page, pageErrors, warnings, close: () => context.close() };
};

test('init never throws: invalid options are named once on the console and leave the agent off; unknown keys only warn', async () => {
  const { page, pageErrors, warnings, close } = await watchedPage();
  const r = await page.evaluate(async () => {
    const attempt = (o: unknown) => {
      try {
        W().Ferry.init(o as never);
        return W().Ferry.getSessionId() ?? 'off';
      } catch (e) {
        return `threw ${(e as Error).name}: ${(e as Error).message}`;
      }
    };
    const outcomes = [
      attempt(undefined),
      attempt({ product: 'p' }),
      attempt({ product: 'p', application: 'a', version: '1', server: { url: 'not a url' }, storage: { maxLocalBytes: 'big' } }),
    ];
    // Habits from other SDKs: warned about and ignored, the agent starts.
    const started = attempt({ product: 'p', application: 'a', version: '1', dsn: 'https://x@example/1', server: { environment: 'prod' } });
    await W().Ferry.ready();
    return { outcomes, started };
  });
  assert.deepEqual(r.outcomes, ['off', 'off', 'off'], 'nothing thrown, no session started');
  assert.match(r.started, /^[0-9a-f-]{36}$/, 'unknown keys do not keep the agent off');
  const invalid = warnings.filter((w) => w.includes('invalid options'));
  assert.equal(invalid.length, 3);
  assert.match(invalid[0], /options must be an object/);
  assert.match(invalid[1], /application: required.*version: required/);
  assert.match(invalid[2], /server\.url: must be an absolute URL/);
  assert.match(invalid[2], /storage\.maxLocalBytes: must be a number/);
  const unknown = warnings.filter((w) => w.includes('unknown options ignored'));
  assert.equal(unknown.length, 1);
  assert.match(unknown[0], /dsn: is not a known option/);
  assert.match(unknown[0], /server\.environment: is not a known option/);
  assert.deepEqual(pageErrors, []);
  await close();
});

test('log methods read both Loupe and JavaScript habits; an Error anywhere becomes the exception with its cause chain', async () => {
  const { page, close } = await watchedPage();
  const id = await page.evaluate(async () => {
    const { Ferry } = W();
    Ferry.init({ product: 'habits', application: 'a', version: '1', capture: { errors: false, rejections: false } });
    await Ferry.ready();
    Ferry.log.error('Something broke');
    Ferry.log.error(new Error('boom'));
    Ferry.log.warn('Save failed', { documentId: 42 });
    Ferry.log.info('Sync', 'saved', { documentId: 42 });
    Ferry.log.debug('Sync', 'retrying', new TypeError('socket closed'));
    const root = new RangeError('disk full');
    Ferry.log.error('Upload failed', new Error('write failed', { cause: root }), { attempt: 3 });
    const http = Ferry.createLogger('Http');
    http.warn('slow response', { ms: 900 });
    http.error(new Error('502 from upstream'));
    http.exception('thrown string');
    await Ferry.flush();
    return Ferry.getSessionId()!;
  });
  const { messages } = await readDb(page, 'habits');
  const mine = messages
    .filter((m) => m.sessionId === id)
    .map((m) => ({ severity: m.severity, category: m.category, text: m.text, details: m.details, exception: m.exception?.name }));
  assert.deepEqual(mine, [
    { severity: 'error', category: 'General', text: 'Something broke', details: undefined, exception: undefined },
    { severity: 'error', category: 'General', text: 'boom', details: undefined, exception: 'Error' },
    { severity: 'warning', category: 'General', text: 'Save failed', details: { documentId: 42 }, exception: undefined },
    { severity: 'information', category: 'Sync', text: 'saved', details: { documentId: 42 }, exception: undefined },
    { severity: 'verbose', category: 'Sync', text: 'retrying', details: undefined, exception: 'TypeError' },
    { severity: 'error', category: 'General', text: 'Upload failed', details: { attempt: 3 }, exception: 'Error' },
    { severity: 'warning', category: 'Http', text: 'slow response', details: { ms: 900 }, exception: undefined },
    { severity: 'error', category: 'Http', text: '502 from upstream', details: undefined, exception: 'Error' },
    { severity: 'error', category: 'Http', text: 'thrown string', details: undefined, exception: 'string' },
  ]);
  const chained = messages.find((m) => m.sessionId === id && m.text === 'Upload failed')!;
  assert.match(chained.exception!.stack!, /^Error: write failed\n/);
  assert.match(chained.exception!.stack!, /\nCaused by: RangeError: disk full\n\s+at /);
  assert.match(messages.find((m) => m.sessionId === id && m.text === 'boom')!.exception!.stack!, /boom/);
  await close();
});

test('logging with hostile arguments never throws and stores truncated, normalised messages', async () => {
  const { page, pageErrors, close } = await watchedPage();
  const id = await page.evaluate(async () => {
    const { Ferry } = W();
    const log = Ferry.log as unknown as Record<string, (...a: unknown[]) => void>;
    log.information('Early', 'before init'); // kept and written once init runs
    Ferry.init({ product: 'bad', application: 'a', version: '1' });
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const throwingGetter = {
      get boom() {
        throw new Error('getter');
      },
    };
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('proxy');
        },
        ownKeys() {
          throw new Error('proxy keys');
        },
      },
    );
    log.error('Circular', 'has a cycle', circular);
    log.warning('Huge', 'x'.repeat(1_000_000));
    log.information(42, { not: 'a string' });
    log.information(undefined, undefined);
    log.verbose(Symbol('s'), Symbol('t'), 10n);
    log.information('Getter', 'details throw', throwingGetter);
    log.information(proxy, proxy, proxy);
    Ferry.log.exception(null);
    Ferry.log.exception('a string was thrown', { severity: 'critical' });
    Ferry.log.exception({ name: 'Weird', message: 7 }, 'not options' as never);
    (Ferry.log as unknown as { nope?: unknown }).nope = 1;
    Ferry.configure({ storage: { maxLocalBytes: -5 } } as never);
    Ferry.configure(null as never);
    await Ferry.flush();
    return Ferry.getSessionId();
  });
  const { messages } = await readDb(page, 'bad');
  const mine = messages.filter((m) => m.sessionId === id);
  const byCat = (c: string) => mine.find((m) => m.category === c);
  assert.equal(mine[0].text, 'before init');
  assert.deepEqual(byCat('Circular')?.details, { name: 'loop', self: '[Circular]' });
  assert.equal(byCat('Huge')?.text.length, MESSAGE_LIMITS.maxTextLength);
  assert.match(byCat('Huge')!.text, /…\[truncated\]$/);
  // Not two strings: read as JavaScript's (text, details) under the default category.
  const notStrings = mine.filter((m) => m.category === 'General');
  assert.deepEqual(
    notStrings.map((m) => [m.text, m.details]),
    [
      ['42', { not: 'a string' }],
      ['', undefined],
      ['Symbol(s)', undefined],
      ['"[unserialisable]"', '[unserialisable]'],
    ],
  );
  assert.equal(byCat('Getter')?.details, '[unserialisable]');
  const exceptions = mine.filter((m) => m.exception);
  assert.deepEqual(
    exceptions.map((m) => [m.severity, m.exception!.name]),
    [
      ['error', 'null'],
      ['critical', 'string'],
      ['error', 'Weird'],
    ],
  );
  assert.equal(mine.length, 11, 'every call stored one message (the proxy one with placeholder text)');
  assert.deepEqual(pageErrors, []);
  await close();
});

test('uncaught errors and rejections are captured with stacks; console capture is opt-in', async () => {
  const { page, close } = await watchedPage();
  const id = await page.evaluate(async () => {
    W().Ferry.init({ product: 'cap', application: 'a', version: '1', capture: { console: true } });
    setTimeout(() => {
      throw new RangeError('thrown later');
    }, 0);
    void Promise.reject(new Error('nobody caught me'));
    void Promise.reject('plain reason');
    console.warn('careful', { a: 1 });
    console.debug('details');
    await new Promise((r) => setTimeout(r, 50));
    W().Ferry.configure({ capture: { console: false } });
    console.error('not captured any more');
    await W().Ferry.flush();
    return W().Ferry.getSessionId();
  });
  const { messages } = await readDb(page, 'cap');
  const mine = messages.filter((m) => m.sessionId === id);
  const uncaught = mine.find((m) => m.category === 'Uncaught');
  assert.equal(uncaught?.severity, 'error');
  assert.equal(uncaught?.exception?.name, 'RangeError');
  assert.match(uncaught?.exception?.stack ?? '', /thrown later/);
  const rejections = mine.filter((m) => m.category === 'UnhandledRejection');
  assert.deepEqual(rejections.map((m) => m.text).sort(), ['nobody caught me', 'plain reason']);
  assert.deepEqual(
    mine.filter((m) => m.category === 'Console').map((m) => [m.severity, m.text]),
    [
      ['warning', 'careful {"a":1}'],
      ['verbose', 'details'],
    ],
  );
  await close();
});

test('beforeLog can edit or drop messages; drops and a throwing hook are counted, never leaked', async () => {
  const { page, pageErrors, warnings, close } = await watchedPage();
  const result = await page.evaluate(async () => {
    W().Ferry.init({
      product: 'scrub',
      application: 'a',
      version: '1',
      beforeLog: (m) => {
        if (m.category === 'Secret') return null;
        if (m.category === 'Broken') throw new Error('hook bug');
        return { ...m, text: m.text.replace(/\d{4}-\d{4}/g, '####'), details: undefined };
      },
    });
    W().Ferry.log.information('Card', 'paid with 1234-5678', { card: '1234-5678' });
    W().Ferry.log.information('Secret', 'password=hunter2');
    W().Ferry.log.information('Broken', 'token=abc');
    await W().Ferry.flush();
    return { id: W().Ferry.getSessionId(), summary: W().Ferry.getSessionSummary() };
  });
  const { messages } = await readDb(page, 'scrub');
  const mine = messages.filter((m) => m.sessionId === result.id);
  assert.deepEqual(
    mine.map((m) => [m.seq, m.text, m.details]),
    [[1, 'paid with ####', undefined]],
  );
  assert.equal(result.summary?.dropped.beforeLog, 2);
  assert.ok(warnings.some((w) => w.includes('beforeLog threw')));
  assert.deepEqual(pageErrors, []);
  await close();
});

test('IndexedDB unavailable: a bounded memory buffer, persistence "memory", one warning', async () => {
  const context = await e2e.browser.newContext();
  await context.addInitScript(() => {
    IDBFactory.prototype.open = () => {
      throw new DOMException('IndexedDB disabled by test', 'UnknownError');
    };
  });
  const page = await openAgentPage(context, e2e.server.url);
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  const summary = await page.evaluate(async () => {
    W().Ferry.init({ product: 'mem', application: 'a', version: '1' });
    for (let i = 0; i < 12_000; i++) W().Ferry.log.information('Mem', `m${i}`);
    W().Ferry.log.error('Mem', 'still accepted');
    await W().Ferry.flush();
    return W().Ferry.getSessionSummary();
  });
  assert.equal(summary?.persistence, 'memory');
  assert.equal(summary?.messageCount, 12_001, 'all messages were counted');
  assert.equal(summary?.dropped.overflow, 2_001, 'only the newest 10,000 are kept, the rest counted');
  assert.equal(warnings.filter((w) => w.includes('IndexedDB is unavailable')).length, 1);
  await context.close();
});

test('a database found emptied is reported in the next session summary (watermark outside IndexedDB)', async () => {
  const context = await e2e.browser.newContext();
  const page = await openAgentPage(context, e2e.server.url);
  await page.evaluate(async () => {
    W().Ferry.init({ product: 'wm', application: 'a', version: '1' });
    await W().Ferry.ready();
    W().Ferry.log.error('X', 'kept?');
    await W().Ferry.stop();
  });
  await page.close();
  // Simulate Chromium opening a corrupted store as empty: the database is gone, localStorage stays.
  const second = await openAgentPage(context, e2e.server.url);
  await second.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const r = indexedDB.deleteDatabase('ferry:wm');
        r.onsuccess = () => resolve();
        r.onerror = () => reject(r.error);
      }),
  );
  const id = await second.evaluate(async () => {
    W().Ferry.init({ product: 'wm', application: 'a', version: '1' });
    await W().Ferry.ready();
    return W().Ferry.getSessionId();
  });
  const { sessions } = await readDb(second, 'wm');
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].id, id);
  assert.equal(sessions[0].storageReset?.sessionsBefore, 1);
  // The session after that one sees an intact database again: no reset reported.
  await second.close();
  const third = await openAgentPage(context, e2e.server.url);
  const summary = await third.evaluate(async () => {
    W().Ferry.init({ product: 'wm', application: 'a', version: '1' });
    await W().Ferry.ready();
    return W().Ferry.getSessionSummary();
  });
  assert.equal(summary?.storageReset, undefined);
  await until(async () => (await readDb(third, 'wm')).sessions.length === 2, 'two sessions');
  await context.close();
});
