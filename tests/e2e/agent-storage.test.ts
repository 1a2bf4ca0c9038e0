import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { AGENT_PAGE, agentLoaded, openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserAndServer } from '../support/e2e.js';

const e2e = useBrowserAndServer();

const DAY = 86_400_000;
type Counts = { critical: number; error: number; warning: number; information: number; verbose: number };

/** A stored session with one chunk of `chars` characters of NDJSON (random, so it does not compress). */
const fixture = (
  id: string,
  o: { product: string; ageDays: number; chars: number; status?: string; sent?: boolean; counts?: Partial<Counts>; app?: string },
) => {
  const counts: Counts = { critical: 0, error: 0, warning: 0, information: 0, verbose: 0, ...o.counts };
  const n = Math.max(
    1,
    Object.values(counts).reduce((a, b) => a + b, 0),
  );
  if (!o.counts) counts.information = n;
  const startedAt = Date.now() - o.ageDays * DAY;
  const lines: string[] = [];
  const per = Math.floor(o.chars / n);
  for (let i = 1; i <= n; i++) {
    const head = JSON.stringify({ sessionId: id, seq: i, time: startedAt, severity: 'information', category: 'Fixture', text: '' });
    const pad = per - head.length - 1;
    let text = '';
    while (text.length < pad) text += Math.random().toString(36).slice(2);
    lines.push(head.replace('"text":""', `"text":"${text.slice(0, Math.max(0, pad))}"`));
  }
  const text = lines.join('\n') + '\n';
  return {
    id,
    product: o.product,
    application: o.app ?? 'app',
    version: '1',
    status: o.status ?? 'ended',
    startedAt,
    endedAt: startedAt + 1000,
    counts,
    messageCount: n,
    lastSeq: n,
    bytes: text.length,
    userAgent: 'fixture',
    url: 'http://fixture/',
    agentVersion: '0',
    persistence: 'indexeddb',
    dropped: { beforeLog: 0, overflow: 0, pruned: 0, prunedSessions: 0, prunedMessages: 0 },
    heartbeatAt: startedAt + 1000,
    detailState: o.sent ? 'sent' : 'none',
    ...(o.sent ? { sentAt: startedAt + 2000 } : {}),
    text,
  };
};

/** Creates the product database (through the agent) and stores the fixtures. */
const seed = async (page: Page, product: string, sessions: unknown[]) => {
  await page.evaluate(async (p) => {
    W().Ferry.init({ product: p, application: 'setup', version: '1', storage: { maxLocalBytes: 1e12 } });
    await W().Ferry.ready();
    await W().Ferry.stop();
  }, product);
  await page.evaluate(([p, s]) => W().Inspect.seed(p as string, s as unknown[]), [product, sessions] as const);
};

const ids = async (page: Page, product: string) => new Set((await readDb(page, product)).sessions.map((s) => s.id));

test('a tab that prunes at start-up and crashes before it writes again: the count of sessions pruned is on its stored record', async () => {
  const context = await e2e.browser.newContext();
  const setup = await openAgentPage(context, e2e.server.url);
  const P = 'quick';
  await seed(setup, P, [fixture('ancient', { product: P, ageDays: 40, chars: 100, counts: { information: 4 } })]);
  await setup.close();
  const page = await openAgentPage(context, e2e.server.url);
  const id = await page.evaluate(async (p) => {
    W().Ferry.init({ product: p, application: 'app', version: '1' });
    // Start-up has pruned once this resolves.
    await W().Ferry.ready();
    return W().Ferry.getSessionId()!;
  }, P);
  // No message and no exit write: only a record stored by the pruning itself can carry the count.
  const cdp = await context.newCDPSession(page);
  const crashed = new Promise((r) => page.once('crash', r));
  cdp.send('Page.crash').catch(() => {});
  await crashed;
  const next = await openAgentPage(context, e2e.server.url);
  const { sessions } = await readDb(next, P);
  assert.ok(!sessions.some((s) => s.id === 'ancient'), 'the session past maxLocalAgeDays was pruned');
  const mine = sessions.find((s) => s.id === id);
  assert.ok(mine, "the crashed tab's session is stored");
  assert.deepEqual([mine.dropped.prunedSessions, mine.dropped.prunedMessages], [1, 4], 'one session of 4 messages pruned, counted on the stored record');
  await context.close();
});

test('storage limit: sent sessions go first, then error-free ones; errors and running sessions are kept', async () => {
  const context = await e2e.browser.newContext();
  const setup = await openAgentPage(context, e2e.server.url);
  const P = 'lim';
  await seed(setup, P, [
    fixture('sent', { product: P, ageDays: 1, chars: 20_000, sent: true, counts: { error: 3 } }),
    fixture('info', { product: P, ageDays: 5, chars: 20_000 }),
    fixture('warn', { product: P, ageDays: 6, chars: 20_000, counts: { warning: 2, information: 5 } }),
    fixture('err', { product: P, ageDays: 7, chars: 20_000, status: 'crashed', counts: { error: 1, information: 9 } }),
    fixture('ancient', { product: P, ageDays: 40, chars: 100, counts: { critical: 1 } }),
  ]);
  await setup.close();
  // Another live tab of the product: its running session may never be pruned.
  const live = await openAgentPage(context, e2e.server.url);
  const liveId = await live.evaluate(async () => {
    W().Ferry.init({ product: 'lim', application: 'other', version: '1', storage: { maxLocalBytes: 1e12 } });
    await W().Ferry.ready();
    return W().Ferry.getSessionId();
  });

  const page = await openAgentPage(context, e2e.server.url);
  const me = await page.evaluate(async () => {
    W().Ferry.init({ product: 'lim', application: 'app', version: '1', storage: { maxLocalBytes: 70_000 } });
    await W().Ferry.ready();
    return W().Ferry.getSessionId()!;
  });
  const remaining = await ids(page, P);
  assert.ok(!remaining.has('ancient'), 'past maxLocalAgeDays (30) even with a critical message');
  assert.ok(!remaining.has('sent'), 'sent sessions are pruned first');
  assert.ok(remaining.has('info') && remaining.has('warn') && remaining.has('err'));

  const logKb = (kb: number, severity: 'information' | 'error' = 'information') =>
    page.evaluate(
      async ([n, sev]) => {
        for (let i = 0; i < (n as number); i++) W().Ferry.log[sev as 'information']('Fill', 'y'.repeat(900));
        await W().Ferry.flush();
      },
      [kb, severity] as const,
    );
  await logKb(16);
  await until(async () => !(await ids(page, P)).has('info'), 'the info-only session to be pruned');
  assert.ok((await ids(page, P)).has('warn'), 'warnings outlive information-only sessions');
  await logKb(25);
  await until(async () => !(await ids(page, P)).has('warn'), 'the warning session to be pruned');
  assert.ok((await ids(page, P)).has('err'), 'the session with errors is kept while error-free ones remain');

  await logKb(1, 'error');
  await logKb(50);
  const db = await until(async () => {
    const d = await readDb(page, P);
    const mine = d.sessions.find((s) => s.id === me)!;
    return !d.sessions.some((s) => s.id === 'err') && mine.bytes <= 70_000 ? d : undefined;
  }, 'the error session to go and the running session to be trimmed');
  const mine = db.sessions.find((s) => s.id === me)!;
  assert.equal(mine.status, 'running');
  assert.ok(
    db.sessions.some((s) => s.id === liveId && s.status === 'running'),
    'the other tab’s live session is kept',
  );
  // 'ancient' was removed by the other tab's start-up (and counted on its session); this
  // session removed 'sent', 'info', 'warn', 'err' and the empty 'setup' session.
  assert.equal(mine.dropped.prunedSessions, 5);
  assert.equal(mine.dropped.prunedMessages, 3 + 1 + 7 + 10 + 0);
  assert.ok(mine.dropped.pruned > 0, 'trimmed messages of the running session are counted');
  const kept = db.messages.filter((m) => m.sessionId === me);
  assert.equal(kept.length, mine.messageCount);
  assert.ok(
    kept.some((m) => m.severity === 'error'),
    'the running session’s error chunk is trimmed last',
  );
  assert.equal(kept[kept.length - 1].seq, mine.lastSeq, 'the newest messages are kept');
  await context.close();
});

test('real QuotaExceededError (CDP quota override): the agent prunes, retries, keeps logging and counts the loss', async () => {
  const context = await e2e.browser.newContext();
  // Chromium latches an origin's quota when it first opens IndexedDB: an override made after
  // that has no effect (measured here), so it is set before the page touches storage.
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: e2e.server.url, quotaSize: 2_600_000 });
  await page.goto(e2e.server.url + AGENT_PAGE);
  await agentLoaded(page);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const P = 'quota';
  const old = Array.from({ length: 6 }, (_, i) => fixture(`old${i}`, { product: P, ageDays: 10 - i, chars: 300_000 }));
  await seed(page, P, old);
  const result = await page.evaluate(async () => {
    W().Ferry.init({ product: 'quota', application: 'app', version: '1' });
    await W().Ferry.ready();
    let threw = 0;
    // Random bytes, so LevelDB's compression cannot shrink them under the quota.
    const noise = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(600))));
    for (let round = 0; round < 12; round++) {
      try {
        for (let i = 0; i < 200; i++) W().Ferry.log.information('Fill', `${round}:${i}:` + noise());
      } catch {
        threw++;
      }
      await W().Ferry.flush();
    }
    W().Ferry.log.error('Final', 'still logging');
    await W().Ferry.flush();
    return { threw, summary: W().Ferry.getSessionSummary()! };
  });
  assert.equal(result.threw, 0);
  assert.deepEqual(pageErrors, []);
  const db = await readDb(page, P);
  const left = db.sessions.filter((s) => s.id.startsWith('old')).length;
  assert.ok(left < old.length, `old sessions were pruned to make room (left ${left})`);
  const d = result.summary.dropped;
  assert.equal(d.prunedSessions, old.length - left);
  assert.equal(
    d.prunedMessages,
    old.slice(0, old.length - left).reduce((n, s) => n + s.messageCount, 0),
  );
  const mine = db.messages.filter((m) => m.sessionId === result.summary.id);
  assert.equal(mine[mine.length - 1]?.text, 'still logging', 'the agent keeps storing after quota pressure');
  assert.equal(mine.length + d.overflow + d.pruned, 12 * 200 + 1, 'every message is either stored or counted as lost');
  await context.close();
});
