// The packager in real Chromium: criteria over a fixture of sessions left by other tabs and page
// loads, destinations (with the pickers stubbed by OPFS handles, which share their interface, since
// headless Chromium cannot answer a picker), marking, progress, cancel, and lazy loading.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { PackageCriterion } from '../../src/shared/package-format.js';
import { PACKAGE_CRITERIA } from '../../src/shared/package-format.js';
import { useBrowserAndServer } from '../support/e2e.js';
import { openPackagerPage, type SessionSpec } from './packager-page.js';

const e2e = useBrowserAndServer();

interface FixtureSession {
  key: string;
  id: string;
  product: string;
  application: string;
  status: string;
  counts: Record<string, number>;
  sentAt?: number;
  packagedAt?: number;
}

const SPECS: (SessionSpec & { key: string })[] = [
  { key: 'edEndedInfo', application: 'editor', status: 'ended', severities: ['information', 'verbose'] },
  { key: 'edEndedWarn', application: 'editor', status: 'ended', severities: ['information', 'warning'] },
  { key: 'edCrashedErr', application: 'editor', status: 'crashed', severities: ['error', 'information', 'information', 'verbose', 'information'] },
  { key: 'edSentCrit', application: 'editor', status: 'ended', severities: ['critical'], sentAt: 1 },
  { key: 'edPackagedWarn', application: 'editor', status: 'crashed', severities: ['warning'], packagedAt: 1 },
  { key: 'edLiveErr', application: 'editor', status: 'running', severities: ['error'] },
  { key: 'viEndedErr', application: 'viewer', status: 'ended', severities: ['error', 'warning'] },
  { key: 'viCrashedSentWarn', application: 'viewer', status: 'crashed', severities: ['warning'], sentAt: 1 },
  { key: 'viEndedCrit', application: 'viewer', status: 'ended', severities: ['critical', 'verbose'] },
  { key: 'viLiveCrit', application: 'viewer', status: 'running', severities: ['critical'] },
  { key: 'otherProduct', product: 'other', application: 'editor', status: 'ended', severities: ['error'] },
];

/** The Loupe criteria written out independently of src/agent/criteria.ts. */
const expected = (all: FixtureSession[], current: FixtureSession, criteria: PackageCriterion[], application?: string): string[] => {
  const rule: Record<PackageCriterion, (s: FixtureSession) => boolean> = {
    active: (s) => s.id === current.id,
    completed: (s) => s.status === 'ended' || s.status === 'crashed',
    crashed: (s) => s.status === 'crashed',
    new: (s) => s.status !== 'running' && !s.sentAt && !s.packagedAt,
    critical: (s) => s.status !== 'running' && s.counts.critical > 0,
    error: (s) => s.status !== 'running' && s.counts.error > 0,
    warning: (s) => s.status !== 'running' && s.counts.warning > 0,
  };
  return [...all, current]
    .filter((s) => s.product === 'acme' && (application === undefined || s.application === application))
    .filter((s) => criteria.some((c) => rule[c](s)))
    .map((s) => s.key)
    .sort();
};

const seedCriteriaFixture = async (page: Page) =>
  page.evaluate(async (specs) => {
    const { Ferry, Fx } = PW();
    const records = await Fx.seed('acme', specs);
    // The running sessions belong to live tabs: their live locks are held, so they stay running.
    for (const r of records) if (r.status === 'running') await Fx.holdLiveLock(r.id);
    Ferry.init({ product: 'acme', application: 'editor', version: '1.0' });
    await Ferry.ready();
    Ferry.log.error('Now', 'the current session has an error too');
    const current = Ferry.getSessionSummary()!;
    return {
      sessions: records.map((r, i) => ({
        key: specs[i].key,
        id: r.id,
        product: r.product,
        application: r.application,
        status: r.status,
        counts: r.counts,
        sentAt: r.sentAt,
        packagedAt: r.packagedAt,
      })),
      current: {
        key: 'current',
        id: current.id,
        product: current.product,
        application: current.application,
        status: current.status,
        counts: current.counts,
      } as {
        key: string;
        id: string;
        product: string;
        application: string;
        status: string;
        counts: Record<string, number>;
        sentAt?: number;
        packagedAt?: number;
      },
    };
  }, SPECS);

test('every criterion alone and in combination, with and without the application filter, picks exactly the matching sessions', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const fixture = await seedCriteriaFixture(page);
  const keyOf = new Map([...fixture.sessions, fixture.current].map((s) => [s.id, s.key]));

  const combos: PackageCriterion[][] = [
    ...PACKAGE_CRITERIA.map((c) => [c]),
    ...PACKAGE_CRITERIA.flatMap((a, i) => PACKAGE_CRITERIA.slice(i + 1).map((b) => [a, b])),
    ['new', 'active', 'error'],
    ['crashed', 'critical', 'warning'],
    [...PACKAGE_CRITERIA],
  ];
  const cases = combos.flatMap((criteria) => [undefined, 'editor', 'viewer'].map((application) => ({ criteria, application })));
  const picked = await page.evaluate(async (cases) => {
    const out: string[][] = [];
    for (const c of cases) out.push((await PW().Ferry.packager.preview(c)).map((s) => s.id));
    return out;
  }, cases);
  assert.equal(picked.length, cases.length);
  cases.forEach((c, i) => {
    const got = picked[i].map((id) => keyOf.get(id) ?? id).sort();
    assert.deepEqual(
      got,
      expected(fixture.sessions, fixture.current, c.criteria, c.application),
      `${c.criteria.join('+')} / ${c.application ?? 'all applications'}`,
    );
  });

  // Sending takes the same sessions, each with all of its messages.
  const sent = await page.evaluate(async () => {
    const r = await PW().Ferry.packager.send({ criteria: ['error', 'crashed'], destination: 'blob' });
    const contents = await PW().Fx.api().readPackage(r.blob!);
    return { status: r.status, ids: r.sessions.map((s) => s.id), manifestIds: contents.manifest.sessions.map((s) => s.id), stats: contents.sessions };
  });
  assert.equal(sent.status, 'sent');
  assert.deepEqual(sent.manifestIds, sent.ids);
  assert.deepEqual(sent.ids.map((id) => keyOf.get(id)).sort(), expected(fixture.sessions, fixture.current, ['error', 'crashed']));
  for (const st of sent.stats) {
    const s = fixture.sessions.find((x) => x.id === st.id)!;
    assert.deepEqual(st.counts, s.counts, s.key);
    assert.equal(st.firstSeq, 1);
    assert.equal(st.lastSeq, st.messageCount);
  }
  await context.close();
});

test('the active session is packaged up to the moment of packaging (buffered messages are flushed first)', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    Ferry.init({ product: 'live', application: 'editor', version: '2.0' });
    await Ferry.ready();
    for (let i = 0; i < 5; i++) Ferry.log.verbose('Buffered', `not yet stored ${i}`);
    const res = await Ferry.packager.send({ criteria: ['active'], destination: 'blob', description: 'it froze', replyTo: 'me@example.com' });
    const id = Ferry.getSessionId()!;
    const contents = await Fx.api().readPackage(res.blob!, { messagesOf: [id] });
    return { res: { ...res, blob: undefined }, id, contents, stored: await Fx.sessions('live') };
  });
  assert.equal(r.res.status, 'sent');
  assert.deepEqual(
    r.res.sessions.map((s) => s.id),
    [r.id],
  );
  assert.deepEqual(
    r.contents.messages[r.id].map((m) => m.text),
    [0, 1, 2, 3, 4].map((i) => `not yet stored ${i}`),
  );
  assert.equal(r.contents.manifest.description, 'it froze');
  assert.equal(r.contents.manifest.replyTo, 'me@example.com');
  assert.deepEqual(r.contents.manifest.criteria, ['active']);
  assert.equal(r.contents.manifest.creator.application, 'editor');
  assert.equal(r.contents.manifest.creator.version, '2.0');
  assert.match(r.res.fileName!, /^live-editor-\d{8}-\d{6}-1sessions\.ferry\.zip$/);
  // The running session is marked packaged up to what the package held: it keeps logging, and
  // what it logs later is still new.
  assert.deepEqual(r.res.marked, [r.id]);
  assert.ok((r.stored[0].packagedAt ?? 0) > 0);
  assert.equal(r.stored[0].packagedSeq, 5);
  await context.close();
});

test('packaged sessions are marked so that `new` leaves them out; a failed or cancelled package marks nothing', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    const seeded = await Fx.seed('marks', [
      { application: 'a' },
      { application: 'b', status: 'crashed', severities: ['error'] },
      { application: 'a', sentAt: 5 },
    ]);
    Ferry.init({ product: 'marks', application: 'a', version: '1' });
    await Ferry.ready();
    const before = (await Ferry.packager.preview({ criteria: ['new'] })).map((s) => s.id);

    // Cancelled in the folder picker.
    (window as unknown as { showDirectoryPicker: unknown }).showDirectoryPicker = async () => {
      throw new DOMException('The user aborted a request.', 'AbortError');
    };
    const cancelled = await Ferry.packager.send({ criteria: ['new'], destination: 'folder' });
    // A folder that refuses the write.
    const refusing = {
      kind: 'directory',
      name: 'readonly',
      getFileHandle: async () => {
        throw new DOMException('not allowed', 'NotAllowedError');
      },
    } as unknown as FileSystemDirectoryHandle;
    const failed = await Ferry.packager.send({ criteria: ['new'], destination: { type: 'folder', directory: refusing } }).then(
      () => 'resolved',
      (e: Error) => `${e.name}: ${e.message}`,
    );
    // Aborted before it starts.
    const aborted = await Ferry.packager.send({ criteria: ['new'], destination: 'blob', signal: AbortSignal.abort() });
    const afterFailures = (await Ferry.packager.preview({ criteria: ['new'] })).map((s) => s.id);

    const sent = await Ferry.packager.send({ criteria: ['new', 'active'], destination: 'blob' });
    const afterSend = (await Ferry.packager.preview({ criteria: ['new'] })).map((s) => s.id);
    const again = await Ferry.packager.send({ criteria: ['new'], destination: 'blob' });
    return {
      seeded: seeded.map((s) => s.id),
      before,
      cancelled,
      failed,
      aborted,
      afterFailures,
      sent: { ...sent, blob: undefined },
      afterSend,
      again,
      current: Ferry.getSessionId(),
      stored: await Fx.sessions('marks'),
    };
  });
  const [a, b, sentBefore] = r.seeded;
  assert.deepEqual(r.before, [a, b]);
  assert.equal(r.cancelled.status, 'cancelled');
  assert.match(r.failed, /NotAllowedError/);
  assert.equal(r.aborted.status, 'cancelled');
  assert.deepEqual(r.afterFailures, [a, b], 'nothing marked by a cancelled or failed package');
  assert.deepEqual(
    r.sent.sessions.map((s) => s.id),
    [a, b, r.current],
  );
  assert.deepEqual(r.sent.marked, [a, b, r.current]);
  assert.match(r.sent.fileName!, /^marks-all-apps-\d{8}-\d{6}-3sessions\.ferry\.zip$/);
  assert.deepEqual(r.afterSend, []);
  assert.equal(r.again.status, 'empty');
  assert.equal(r.again.fileName, undefined);
  const stored = new Map(r.stored.map((s) => [s.id, s]));
  assert.ok(stored.get(a)!.packagedAt! > 0 && stored.get(b)!.packagedAt! > 0);
  assert.equal(stored.get(sentBefore)!.packagedAt, undefined);
  await context.close();
});

test('progress reports sessions and bytes up to the totals, and aborting mid-way cancels without marking', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    const big = await Fx.seedLarge('progress', 6);
    const small = await Fx.seed('progress', [{ severities: ['warning', 'information'] }, { status: 'crashed' }]);
    Ferry.init({ product: 'progress', application: 'editor', version: '1' });
    await Ferry.ready();
    const events: { phase: string; sessionsDone: number; sessionsTotal: number; bytesDone: number; bytesTotal: number; packageBytes: number; jobId: string }[] =
      [];
    const off = Ferry.packager.on('progress', (p) => events.push(p));
    const sentEvents: number[] = [];
    Ferry.packager.on('sent', (s) => sentEvents.push(s.sessions.length));
    const own: string[] = [];
    const res = await Ferry.packager.send({ criteria: ['completed'], destination: 'blob', onProgress: (p) => own.push(p.phase) });
    off();

    const controller = new AbortController();
    const cancelled = await Ferry.packager.send({
      criteria: ['completed'],
      destination: 'blob',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'packaging' && p.bytesDone > 0) controller.abort();
      },
    });
    return {
      events,
      own,
      sentEvents,
      res: { ...res, blob: undefined },
      size: res.blob!.size,
      cancelled,
      big,
      small: small.map((s) => s.id),
      stored: await Fx.sessions('progress'),
    };
  });
  const phases = r.events.map((e) => e.phase);
  assert.deepEqual(r.own, phases);
  assert.equal(phases[0], 'selecting');
  assert.ok(phases.filter((p) => p === 'packaging').length >= 2, `several packaging reports: ${phases.join(',')}`);
  assert.deepEqual(phases.slice(-2), ['saving', 'done']);
  assert.equal(new Set(r.events.map((e) => e.jobId)).size, 1);
  const packing = r.events.filter((e) => e.phase === 'packaging');
  for (let i = 1; i < packing.length; i++) {
    assert.ok(packing[i].bytesDone >= packing[i - 1].bytesDone);
    assert.ok(packing[i].sessionsDone >= packing[i - 1].sessionsDone);
  }
  const last = r.events.at(-1)!;
  assert.equal(last.sessionsDone, 3);
  assert.equal(last.sessionsTotal, 3);
  assert.equal(last.bytesDone, r.res.rawBytes);
  assert.equal(last.packageBytes, r.size);
  assert.ok(r.res.rawBytes >= r.big.bytes);
  assert.deepEqual(r.sentEvents, [3]);

  assert.equal(r.cancelled.status, 'cancelled');
  assert.deepEqual(r.cancelled.marked, []);
  // Only the first (completed) package marked its sessions; the cancelled one changed nothing after it.
  const marks = new Set(r.stored.filter((s) => s.status !== 'running').map((s) => s.packagedAt));
  assert.equal(marks.size, 1);
  assert.ok([...marks][0]! > 0);
  await context.close();
});

test('folder destination: a unique, descriptive name in the chosen folder, never overwriting; download without a picker', async () => {
  const context = await e2e.browser.newContext({ acceptDownloads: true });
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    await Fx.seed('media', [
      { application: 'kiosk', severities: ['error'] },
      { application: 'kiosk', status: 'crashed' },
    ]);
    Ferry.init({ product: 'media', application: 'kiosk', version: '1' });
    await Ferry.ready();
    const root = await navigator.storage.getDirectory();
    const usb = await root.getDirectoryHandle('usb-stick', { create: true });
    // An app-held folder (e.g. remembered from an earlier pick).
    const first = await Ferry.packager.send({ criteria: ['completed'], destination: { type: 'folder', directory: usb } });
    // Through the picker (stubbed with the same OPFS folder), twice within the same second or not.
    let pickerOptions: unknown;
    (window as unknown as { showDirectoryPicker: unknown }).showDirectoryPicker = async (o: unknown) => {
      pickerOptions = o;
      return usb;
    };
    const second = await Ferry.packager.send({ criteria: ['completed'], destination: 'folder' });
    const third = await Ferry.packager.send({ criteria: ['completed'], destination: 'folder' });
    const names: string[] = [];
    for await (const name of (usb as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    const files = await Promise.all([first, second, third].map(async (s) => (await usb.getFileHandle(s.fileName!)).getFile()));
    const contents = await Promise.all(files.map((f) => Fx.api().readPackage(f)));
    return {
      results: [first, second, third].map((s) => ({ status: s.status, destination: s.destination, fileName: s.fileName, bytes: s.bytes })),
      sizes: files.map((f) => f.size),
      sessionCounts: contents.map((c) => c.manifest.sessions.length),
      names: names.sort(),
      pickerOptions,
    };
  });
  assert.deepEqual(
    r.results.map((x) => [x.status, x.destination]),
    [
      ['sent', 'folder'],
      ['sent', 'folder'],
      ['sent', 'folder'],
    ],
  );
  for (const x of r.results) assert.match(x.fileName!, /^media-kiosk-\d{8}-\d{6}-2sessions(-\d+)?\.ferry\.zip$/);
  assert.equal(new Set(r.results.map((x) => x.fileName)).size, 3, 'three distinct names');
  assert.deepEqual(r.names, r.results.map((x) => x.fileName).sort());
  assert.deepEqual(
    r.sizes,
    r.results.map((x) => x.bytes),
  );
  assert.deepEqual(r.sessionCounts, [2, 2, 2]);
  assert.deepEqual(r.pickerOptions, { id: 'ferry-packages', mode: 'readwrite' });

  // No picker (Firefox, Safari): the package is downloaded under the same kind of name.
  const [download, res] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate(async () => {
      delete (window as unknown as { showDirectoryPicker?: unknown }).showDirectoryPicker;
      return PW().Ferry.packager.send({ criteria: ['completed'], destination: 'folder' });
    }),
  ]);
  assert.equal(res.destination, 'download');
  assert.equal(download.suggestedFilename(), res.fileName);
  assert.match(res.fileName!, /^media-kiosk-\d{8}-\d{6}-2sessions\.ferry\.zip$/);
  await context.close();
});

test('file destination: save dialog with the descriptive name where available, else a download; bad destinations are refused', async () => {
  const context = await e2e.browser.newContext({ acceptDownloads: true });
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    await Fx.seed('files', [{ application: 'editor', status: 'crashed', severities: ['critical'] }]);
    Ferry.init({ product: 'files', application: 'editor', version: '1' });
    await Ferry.ready();
    const root = await navigator.storage.getDirectory();
    let suggested: { suggestedName?: string } | undefined;
    (window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async (o: { suggestedName?: string }) => {
      suggested = o;
      return root.getFileHandle('chosen-by-user.zip', { create: true });
    };
    const saved = await Ferry.packager.send({ criteria: ['crashed'], destination: 'file' });
    const file = await (await root.getFileHandle('chosen-by-user.zip')).getFile();
    const contents = await Fx.api().readPackage(file);
    const refused = await Promise.all(
      [{ type: 'nowhere' }, 'server', 'email'].map((destination) =>
        Ferry.packager.send({ criteria: ['crashed'], destination: destination as never }).then(
          () => 'resolved',
          (e: Error & { code?: string }) => `${e.name}${e.code ? `(${e.code})` : ''}: ${e.message}`,
        ),
      ),
    );
    const badCriteria = await Ferry.packager.send({ criteria: ['crashes' as never], destination: 'blob' }).then(
      () => 'resolved',
      (e: Error) => `${e.name}: ${e.message}`,
    );
    return { saved: { ...saved, blob: undefined }, suggested, size: file.size, sessions: contents.manifest.sessions.length, refused, badCriteria };
  });
  assert.equal(r.saved.status, 'sent');
  assert.equal(r.saved.destination, 'file');
  assert.equal(r.saved.fileName, 'chosen-by-user.zip');
  assert.match(r.suggested!.suggestedName!, /^files-editor-\d{8}-\d{6}-1sessions\.ferry\.zip$/);
  assert.equal(r.size, r.saved.bytes);
  assert.equal(r.sessions, 1);
  assert.match(r.refused[0], /^TypeError: destination: must be one of/);
  assert.match(r.refused[1], /^PackagerError\(unavailable\): destination "server"/);
  assert.match(r.refused[2], /^PackagerError\(unavailable\): destination "email"/);
  assert.match(r.badCriteria, /^TypeError: criteria: "crashes" is not one of/);

  // A picker that refuses (no recent click) or is missing: download with the descriptive name.
  for (const setup of ['refuse', 'missing'] as const) {
    const [download, res] = await Promise.all([
      page.waitForEvent('download'),
      page.evaluate(async (setup) => {
        const w = window as unknown as { showSaveFilePicker?: unknown };
        if (setup === 'missing') delete w.showSaveFilePicker;
        else
          w.showSaveFilePicker = async () => {
            throw new DOMException('Must be handling a user gesture to show a file picker.', 'SecurityError');
          };
        return PW().Ferry.packager.send({ criteria: ['crashed'], destination: 'file' });
      }, setup),
    ]);
    assert.equal(res.destination, 'download', setup);
    assert.equal(download.suggestedFilename(), res.fileName);
    assert.match(res.fileName!, /^files-editor-\d{8}-\d{6}-1sessions\.ferry\.zip$/);
    const path = await download.path();
    assert.ok(path);
  }
  await context.close();
});

test('packaging code and the worker load only on first use; a worker that cannot load rejects clearly', async () => {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (req) => requested.push(new URL(req.url()).pathname));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(e2e.server.url + '/tests/e2e/pages/packager.html');
  await page.waitForFunction(() => PW().ferryLoaded === true);
  await page.evaluate(async () => {
    PW().Ferry.init({ product: 'lazy', application: 'a', version: '1', workerUrl: '/dist/no-such-worker.js' });
    await PW().Ferry.ready();
    PW().Ferry.log.error('X', 'y');
    await PW().Ferry.flush();
  });
  assert.ok(!requested.some((p) => /chunks\/packager-|worker\.js/.test(p)), `nothing of the packager loaded at start: ${requested.join(' ')}`);
  const failure = await page.evaluate(() =>
    PW()
      .Ferry.packager.send({ criteria: ['active'], destination: 'blob' })
      .then(
        () => 'resolved',
        (e: Error) => e.message,
      ),
  );
  assert.match(failure, /worker \/dist\/no-such-worker\.js failed.*workerUrl/);
  assert.ok(requested.some((p) => /chunks\/packager-.*\.js$/.test(p)));
  const ok = await page.evaluate(async () => {
    PW().Ferry.configure({ workerUrl: '/dist/ferry-worker.js' });
    return (await PW().Ferry.packager.send({ criteria: ['active'], destination: 'blob' })).status;
  });
  assert.equal(ok, 'sent');
  assert.ok(requested.includes('/dist/ferry-worker.js'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('the script-tag build packages too (it loads the packager from the ESM build next to it)', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url, '/tests/e2e/pages/packager-iife.html');
  const r = await page.evaluate(async () => {
    const { Fx } = PW();
    const Ferry = (window as unknown as { Ferry: ReturnType<typeof PW>['Ferry'] }).Ferry;
    await Fx.seed('iife', [{ application: 'tag', status: 'crashed', severities: ['error', 'information'] }]);
    Ferry.init({ product: 'iife', application: 'tag', version: '1' });
    await Ferry.ready();
    const res = await Ferry.packager.send({ criteria: ['crashed', 'active'], destination: 'blob' });
    const contents = await Fx.api().readPackage(res.blob!);
    return { status: res.status, count: res.sessions.length, messages: contents.sessions.map((s) => s.messageCount) };
  });
  assert.deepEqual(r, { status: 'sent', count: 2, messages: [2, 0] });
  await context.close();
});

test('the script-tag build prunes by age at start-up (its pruning loads from the ESM build next to it)', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url, '/tests/e2e/pages/packager-iife.html');
  const requested: string[] = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  const r = await page.evaluate(async () => {
    const { Fx } = PW();
    const Ferry = (window as unknown as { Ferry: ReturnType<typeof PW>['Ferry'] }).Ferry;
    const day = 86_400_000;
    const [old, recent] = await Fx.seed('iife-prune', [
      { application: 'tag', status: 'ended', startedAt: Date.now() - 40 * day, severities: ['error', 'information'] },
      { application: 'tag', status: 'ended', startedAt: Date.now() - day, severities: ['information'] },
    ]);
    Ferry.init({ product: 'iife-prune', application: 'tag', version: '1', storage: { maxLocalAgeDays: 30 } });
    await Ferry.ready();
    const left = (await Fx.sessions('iife-prune')).map((s) => s.id);
    return { old: old.id, recent: recent.id, left, dropped: Ferry.getSessionSummary()!.dropped };
  });
  assert.equal(r.left.includes(r.old), false, 'the 40-day-old session is pruned');
  assert.ok(r.left.includes(r.recent), 'the day-old one is kept');
  assert.equal(r.dropped.prunedSessions, 1);
  assert.equal(r.dropped.prunedMessages, 2);
  assert.ok(requested.includes('/dist/ferry.js'), 'the pruning came from the ESM build');
  await context.close();
});
