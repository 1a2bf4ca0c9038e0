import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { encodeMessages } from '../../../src/shared/message.js';
import { MANIFEST_ENTRY, sessionEntryName } from '../../../src/shared/package-format.js';
import { ADMIN_PATHS, PATHS, type PackageListReply, type PackageReply } from '../../../src/shared/protocol.js';
import { firstAttachment, header, startSmtp, type TestSmtp } from '../../support/smtp.js';
import { countsWith, makeManifest, makeMessages, makePackage, makeSummary, sha256 } from './fixtures.js';
import { KEYS, startTestCollector, type TestCollector } from './harness.js';
import { buildZip, entryOf } from './zip-build.js';

const zipOf = (files: Record<string, string | Uint8Array>): Uint8Array =>
  zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? strToU8(v) : v])));

describe('POST /packages', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector({ over: { limits: { packageBytes: 2 * 1024 * 1024, packageEntries: 20, decompressedBytes: 1024 * 1024 } } });
  });
  after(() => t.close());

  const send = (zip: Uint8Array, o: { key?: string; type?: string; query?: string } = {}) =>
    t.req(`${PATHS.packages}${o.query ?? ''}`, {
      method: 'POST',
      key: o.key ?? KEYS.all,
      headers: { 'content-type': o.type ?? 'application/zip' },
      body: zip as Uint8Array<ArrayBuffer>,
    });
  const errorOf = async (res: Response) => (await res.json()) as { error: string; detail: string };
  const countDemo = async () => (await t.collector.store.listSessions({ product: 'demo', limit: 500 })).sessions.length;

  test('stores every session with its messages, and is idempotent by session id', async () => {
    const a = makeSummary({ counts: countsWith({ error: 1, information: 2 }) });
    const b = makeSummary({ status: 'crashed' });
    const ma = makeMessages(a.id, 3);
    const mb = makeMessages(b.id, 5, 'warning');
    const zip = makePackage([
      { summary: a, messages: ma },
      { summary: b, messages: mb },
    ]);
    const res = await send(zip);
    assert.equal(res.status, 200);
    const reply = (await res.json()) as PackageReply;
    assert.equal(reply.package, sha256(zip));
    assert.deepEqual(reply.sessions, [
      { id: a.id, stored: 'new' },
      { id: b.id, stored: 'new' },
    ]);

    const sa = await t.collector.store.getSession(a.id);
    assert.equal(sa?.source, 'package');
    assert.equal(sa?.packageId, reply.package);
    assert.equal(sa?.detail?.messageCount, 3);
    // The stored blob is the zip entry's deflate data rewrapped as gzip: it decodes to the NDJSON.
    const gz = await t.collector.store.blobs.read(sa!.detail!.sha256);
    assert.equal(gunzipSync(gz!).toString(), encodeMessages(ma));
    assert.equal((await t.collector.store.getSession(b.id))?.detail?.counts.warning, 5);

    const again = (await (await send(zip)).json()) as PackageReply;
    assert.deepEqual(again.sessions, [
      { id: a.id, stored: 'existing' },
      { id: b.id, stored: 'existing' },
    ]);
    const pkgs = await t.collector.store.listPackages(10);
    assert.equal(pkgs.filter((p) => p.id === reply.package).length, 1);
    assert.equal(pkgs.find((p) => p.id === reply.package)?.description, 'It broke when I clicked Save');
  });

  test('a session already received from the agent gets its detail from the package', async () => {
    const s = makeSummary();
    await t.summaries([s]);
    const reply = (await (await send(makePackage([{ summary: s, messages: makeMessages(s.id, 4) }]))).json()) as PackageReply;
    assert.deepEqual(reply.sessions, [{ id: s.id, stored: 'new' }]);
    assert.equal((await t.collector.store.getSession(s.id))?.detail?.messageCount, 4);
  });

  test('multipart form data with description and reply-to, and sentAt for clock correction', async () => {
    const s = makeSummary({ startedAt: Date.now() - 7200_000 - 60_000 });
    const zip = makePackage([{ summary: s, messages: makeMessages(s.id, 2) }]);
    const form = new FormData();
    form.set('package', new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), 'p.ferry.zip');
    form.set('description', 'From the form');
    form.set('replyTo', 'form@example.com');
    form.set('sentAt', String(Date.now() - 7200_000));
    const res = await t.req(PATHS.packages, { method: 'POST', key: KEYS.all, body: form });
    assert.equal(res.status, 200);
    const { package: id } = (await res.json()) as PackageReply;
    const p = (await t.collector.store.listPackages(50)).find((x) => x.id === id);
    assert.equal(p?.description, 'From the form');
    assert.equal(p?.replyTo, 'form@example.com');
    const stored = await t.collector.store.getSession(s.id);
    assert.ok(Math.abs((stored?.clockOffsetMs ?? 0) - 7200_000) < 5000);
  });

  const refused = async (zip: Uint8Array, status: number, error: string, detail?: RegExp, o: Parameters<typeof send>[1] = {}) => {
    const before = await countDemo();
    const res = await send(zip, o);
    assert.equal(res.status, status);
    const body = await errorOf(res);
    assert.equal(body.error, error, body.detail);
    if (detail) assert.match(body.detail, detail);
    assert.equal(await countDemo(), before, 'nothing stored');
  };

  test('multipart bodies are split on disk: any part order, a quoted boundary, a stored zip; a text "package" is refused', async () => {
    const s = makeSummary();
    const zip = Buffer.from(makePackage([{ summary: s, messages: makeMessages(s.id, 3) }]));
    const multipart = (boundary: string, parts: [string, string | Buffer, string?][]): Buffer =>
      Buffer.concat([
        ...parts.flatMap(([name, value, filename]) => [
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n`),
          Buffer.from(value),
          Buffer.from('\r\n'),
        ]),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
    // The boundary string also occurs inside the zip's bytes without its leading CRLF and dashes.
    const boundary = 'b0undary with space';
    const body = multipart(boundary, [
      ['replyTo', 'someone@example.com'],
      ['package', zip, 'x.ferry.zip'],
      ['description', 'Zeilen\r\nmit Umbruch ✓'],
    ]);
    const res = await send(body, { type: `multipart/form-data; boundary="${boundary}"` });
    assert.equal(res.status, 200, await res.clone().text());
    const reply = (await res.json()) as PackageReply;
    assert.equal(reply.package, sha256(zip), 'the package id is the zip part, not the form');
    const record = (await t.collector.store.listPackages(500)).find((p) => p.id === reply.package);
    assert.equal(record?.description, 'Zeilen\r\nmit Umbruch ✓');
    assert.equal(record?.replyTo, 'someone@example.com');
    const asText = multipart('xyz', [['package', 'not a file']]);
    await refused(asText, 400, 'invalid-field', /a file field named "package"/, { type: 'multipart/form-data; boundary=xyz' });
    await refused(Buffer.from('no boundary here'), 400, 'bad-request', /multipart body cannot be parsed/, { type: 'multipart/form-data; boundary=xyz' });
    await refused(multipart('xyz', [['package', zip, 'p.zip']]).subarray(0, 200), 400, 'bad-request', /ends inside a part/, {
      type: 'multipart/form-data; boundary=xyz',
    });
    // Every request's spool folder is gone once it is answered.
    assert.deepEqual(readdirSync(join(t.dir, 'package-spool')), []);
  });

  test('path traversal and other unsafe entry names are refused', async () => {
    const s = makeSummary();
    const manifest = JSON.stringify(makeManifest([s]));
    for (const name of ['../evil.ndjson', 'sessions/../../etc/passwd', '/abs/path', 'C:/windows/x', 'sessions\\x.ndjson', 'a/./b']) {
      const zip = zipOf({ [MANIFEST_ENTRY]: manifest, [sessionEntryName(s.id)]: encodeMessages(makeMessages(s.id, 1)), [name]: 'x' });
      await refused(zip, 400, 'bad-package', /not a safe relative path/);
    }
  });

  test('too many entries is a 413, checked before anything is inflated', async () => {
    const files: Record<string, string> = { [MANIFEST_ENTRY]: JSON.stringify(makeManifest([])) };
    for (let i = 0; i < 25; i++) files[`extra/${i}.txt`] = 'x';
    await refused(zipOf(files), 413, 'too-large', /26 entries, the limit is 20/);
  });

  test('a package over the size limit is a 413', async () => {
    const s = makeSummary();
    const zip = zipSync(
      { [MANIFEST_ENTRY]: strToU8(JSON.stringify(makeManifest([s]))), pad: crypto.getRandomValues(new Uint8Array(65536)).map((x) => x) },
      { level: 0 },
    );
    const big = new Uint8Array(2 * 1024 * 1024 + 1);
    big.set(zip);
    await refused(big, 413, 'too-large', /limit .*2097152/);
  });

  test('an entry that inflates past the limit (zip bomb) is a 413', async () => {
    const s = makeSummary();
    const bomb = new Uint8Array(5 * 1024 * 1024).fill(0x20);
    const zip = zipOf({ [MANIFEST_ENTRY]: JSON.stringify(makeManifest([s])), [sessionEntryName(s.id)]: bomb });
    assert.ok(zip.length < 64 * 1024);
    await refused(zip, 413, 'too-large');
  });

  test('lines of another session inside a session entry are refused', async () => {
    const s = makeSummary();
    const other = makeSummary();
    const zip = zipOf({
      [MANIFEST_ENTRY]: JSON.stringify(makeManifest([s])),
      [sessionEntryName(s.id)]: encodeMessages([...makeMessages(s.id, 1), { ...makeMessages(other.id, 2)[1] }]),
    });
    await refused(zip, 400, 'foreign-message', new RegExp(`line 2: belongs to session ${other.id}`));
  });

  test('manifest problems are refused with the field named', async () => {
    const s = makeSummary();
    const entry = { [sessionEntryName(s.id)]: encodeMessages(makeMessages(s.id, 1)) };
    await refused(zipOf(entry), 400, 'bad-package', /no manifest\.json/);
    await refused(zipOf({ [MANIFEST_ENTRY]: '{nope', ...entry }), 400, 'malformed-json');
    await refused(
      zipOf({ [MANIFEST_ENTRY]: JSON.stringify({ ...makeManifest([s]), extra: 1 }), ...entry }),
      400,
      'invalid-field',
      /manifest\.extra: unknown field/,
    );
    await refused(
      zipOf({ [MANIFEST_ENTRY]: JSON.stringify(makeManifest([{ ...s, counts: { error: 1 } } as never])), ...entry }),
      400,
      'invalid-field',
      /manifest\.sessions\[0\]\.counts\.critical/,
    );
    await refused(zipOf({ [MANIFEST_ENTRY]: JSON.stringify(makeManifest([s])) }), 400, 'bad-package', /listed in manifest\.json but has no entry/);
    const stray = makeSummary();
    await refused(
      zipOf({ [MANIFEST_ENTRY]: JSON.stringify(makeManifest([s])), ...entry, [sessionEntryName(stray.id)]: encodeMessages(makeMessages(stray.id, 1)) }),
      400,
      'bad-package',
      /is not a session listed/,
    );
  });

  test('manifest `problems` (chunks the packager left out) are accepted, stored and listed; bounded, not refused', async () => {
    const s = makeSummary();
    const problems = [
      { sessionId: s.id, chunkSeq: 41, reason: 'its text is number, not a string' },
      { sessionId: s.id, chunkSeq: 90, reason: 'the record cannot be read (DataError)' },
    ];
    const res = await send(makePackage([{ summary: s, messages: makeMessages(s.id, 2) }], { manifest: { problems } }));
    assert.equal(res.status, 200, await res.clone().text());
    const { package: id } = (await res.json()) as PackageReply;
    const listed = await t.req(ADMIN_PATHS.packages, { admin: true });
    const record = ((await listed.json()) as PackageListReply).packages.find((p) => p.id === id);
    assert.deepEqual(record?.problems, problems);
    assert.equal(record?.problemsOmitted, undefined);

    // Many problems with long reasons (a badly damaged store): the first 1000 are kept, cut to 500 characters.
    const many = makeSummary();
    const long = Array.from({ length: 1200 }, (_, i) => ({ sessionId: many.id, chunkSeq: i, reason: 'x'.repeat(800), addedLater: true }));
    const r2 = await send(makePackage([{ summary: many, messages: makeMessages(many.id, 1) }], { manifest: { problems: long } }));
    assert.equal(r2.status, 200, await r2.clone().text());
    const id2 = ((await r2.json()) as PackageReply).package;
    const kept = (await t.collector.store.listPackages(500)).find((p) => p.id === id2);
    assert.equal(kept?.problems?.length, 1000);
    assert.equal(kept?.problemsOmitted, 200);
    assert.equal(kept?.problems?.[0]?.reason.length, 500);
    assert.deepEqual(Object.keys(kept?.problems?.[0] ?? {}).sort(), ['chunkSeq', 'reason', 'sessionId']);

    // A malformed entry is refused with its field named.
    const bad = makeSummary();
    const entry = { [sessionEntryName(bad.id)]: encodeMessages(makeMessages(bad.id, 1)) };
    for (const [problemsValue, field] of [
      [{}, /manifest\.problems: must be an array/],
      [[{ sessionId: bad.id, chunkSeq: -1, reason: 'r' }], /manifest\.problems\[0\]\.chunkSeq/],
      [[{ sessionId: bad.id, chunkSeq: 1 }], /manifest\.problems\[0\]\.reason: must be a string/],
      [[{ sessionId: 'x'.repeat(101), chunkSeq: 1, reason: 'r' }], /manifest\.problems\[0\]\.sessionId/],
    ] as const)
      await refused(zipOf({ [MANIFEST_ENTRY]: JSON.stringify({ ...makeManifest([bad]), problems: problemsValue }), ...entry }), 400, 'invalid-field', field);
  });

  test('a session summary with fields this collector does not know (a newer packager’s) is stored, the fields kept', async () => {
    const s = makeSummary();
    const zip = makePackage([{ summary: { ...s, color: 'blue', dropped: { ...s.dropped, byQuota: 2 } } as never, messages: makeMessages(s.id, 2) }]);
    const res = await send(zip);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as PackageReply).sessions, [{ id: s.id, stored: 'new' }]);
    const stored = await t.collector.store.getSession(s.id);
    assert.deepEqual(stored?.extra, { color: 'blue', 'dropped.byQuota': 2 });
    assert.equal(stored?.detail?.messageCount, 2);
  });

  test('session context in the manifest (creator and summaries) is checked and stored', async () => {
    const s = makeSummary({ environment: 'production', installationId: 'inst-1', user: { id: 'u-1', email: 'ada@example.com' }, context: { plan: 'pro' } });
    const creator = { agentVersion: '0.1.0', userAgent: 'test-agent', environment: 'production', installationId: 'inst-2' };
    const res = await send(makePackage([{ summary: s, messages: makeMessages(s.id, 2) }], { manifest: { creator } }));
    assert.equal(res.status, 200, await res.clone().text());
    const reply = (await res.json()) as PackageReply;
    const stored = await t.collector.store.getSession(s.id);
    assert.deepEqual(stored?.summary.user, s.user);
    assert.deepEqual(stored?.summary.context, s.context);
    const found = await t.collector.store.listSessions({ product: 'demo', limit: 10, installation: 'inst-1', context: [['plan', 'pro']] });
    assert.deepEqual(
      found.sessions.map((x) => x.summary.id),
      [s.id],
    );
    assert.deepEqual((await t.collector.store.listPackages(500)).find((p) => p.id === reply.package)?.creator, creator);
    const other = makeSummary();
    await refused(
      makePackage([{ summary: other, messages: makeMessages(other.id, 1) }], { manifest: { creator: { ...creator, environment: 'prod eu' } } }),
      400,
      'invalid-field',
      /manifest\.creator\.environment: must be 1–64/,
    );
  });

  test('not a zip, a truncated zip, or a wrong content type', async () => {
    await refused(strToU8('just text'), 400, 'bad-package', /not a zip file/);
    const s = makeSummary();
    const zip = makePackage([{ summary: s, messages: makeMessages(s.id, 10) }]);
    await refused(zip.subarray(0, zip.length - 30), 400, 'bad-package');
    await refused(zip, 415, 'unsupported-media-type', undefined, { type: 'text/plain' });
  });

  test('a hand-built zip as the packager writes it is stored (the builder the refusals below use)', async () => {
    const s = makeSummary();
    const messages = makeMessages(s.id, 3);
    const zip = buildZip([entryOf(MANIFEST_ENTRY, JSON.stringify(makeManifest([s]))), entryOf(sessionEntryName(s.id), encodeMessages(messages))]);
    assert.equal((await send(zip)).status, 200);
    const res = await t.req(ADMIN_PATHS.messages(s.id), { admin: true });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { total: number }).total, 3);
  });

  test('trailing data after a deflate stream is refused, naming the entry, and nothing is stored', async () => {
    const s = makeSummary();
    const good = entryOf(sessionEntryName(s.id), encodeMessages(makeMessages(s.id, 3)));
    // The size and CRC-32 still match what inflates: only the bytes after the stream are wrong.
    const junk = { ...good, data: Buffer.concat([good.data, Buffer.from('trailing junk')]) };
    const zip = buildZip([entryOf(MANIFEST_ENTRY, JSON.stringify(makeManifest([s]))), junk]);
    await refused(zip, 400, 'bad-package', new RegExp(`zip entry sessions/${s.id}\\.ndjson has 13 bytes of trailing data after its deflate stream`));
    assert.equal(await t.collector.store.getSession(s.id), undefined);
    // The manifest entry too.
    const manifest = entryOf(MANIFEST_ENTRY, JSON.stringify(makeManifest([s])));
    await refused(
      buildZip([{ ...manifest, data: Buffer.concat([manifest.data, Buffer.from([0])]) }, good]),
      400,
      'bad-package',
      /zip entry manifest\.json has 1 bytes of trailing data/,
    );
  });

  test('trailing data after the end of central directory record is refused', async () => {
    const s = makeSummary();
    const zip = makePackage([{ summary: s, messages: makeMessages(s.id, 2) }]);
    await refused(Buffer.concat([zip, Buffer.from('garbage')]), 400, 'bad-package', /7 bytes of trailing data after the end of central directory record/);
    // A second archive appended is trailing data as well.
    await refused(Buffer.concat([zip, zip]), 400, 'bad-package');
    // A comment that the record declares is part of the zip; one that runs past the end is not.
    const entries = [entryOf(MANIFEST_ENTRY, JSON.stringify(makeManifest([s]))), entryOf(sessionEntryName(s.id), encodeMessages(makeMessages(s.id, 2)))];
    const commented = buildZip(entries, { comment: Buffer.from('made by hand') });
    assert.equal((await send(commented)).status, 200);
    await refused(commented.subarray(0, commented.length - 3), 400, 'bad-package', /runs past the end of the file/);
  });

  test('a package of another product than the key’s is a 403', async () => {
    const s = makeSummary({ product: 'other' });
    await refused(makePackage([{ summary: s, messages: makeMessages(s.id, 1) }]), 403, 'product-mismatch');
    assert.equal(await t.collector.store.getSession(s.id), undefined);
  });

  test('a corrupted entry (CRC mismatch) is refused', async () => {
    const s = makeSummary();
    const zip = zipSync(
      { [MANIFEST_ENTRY]: strToU8(JSON.stringify(makeManifest([s]))), [sessionEntryName(s.id)]: strToU8(encodeMessages(makeMessages(s.id, 1))) },
      { level: 0 },
    );
    const text = Buffer.from(zip);
    const at = text.indexOf('"category"');
    text[at + 2] = 'C'.charCodeAt(0);
    await refused(text, 400, 'bad-package', /CRC-32/);
  });
});

describe('POST /packages/email', () => {
  let smtp: TestSmtp;
  let t: TestCollector;
  before(async () => {
    smtp = await startSmtp();
    t = await startTestCollector({
      over: {
        email: { smtp: { host: smtp.host, port: smtp.port, secure: false }, from: 'ferry@collector.test', to: ['support@example.com'] },
        products: {
          demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }], emailTo: ['demo-team@example.com'] },
          other: { policy: 'all', keys: [{ key: KEYS.other, origins: ['*'] }] },
        },
      },
    });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  const send = (zip: Uint8Array, key: string = KEYS.all) =>
    t.req(PATHS.packagesEmail, { method: 'POST', key, headers: { 'content-type': 'application/zip' }, body: zip as Uint8Array<ArrayBuffer> });

  test('relays the package by SMTP: generated subject, summary body, the package attached', async () => {
    const s = makeSummary({ counts: countsWith({ error: 2 }), status: 'crashed' });
    const zip = makePackage([{ summary: s, messages: makeMessages(s.id, 3) }]);
    const res = await send(zip);
    assert.equal(res.status, 200, await res.clone().text());
    const reply = (await res.json()) as { sent: boolean; messageId: string };
    assert.equal(reply.sent, true);
    assert.equal(smtp.messages.length, 1);
    const mail = smtp.messages[0];
    assert.deepEqual(mail.to, ['demo-team@example.com']);
    assert.equal(mail.from, 'ferry@collector.test');
    assert.equal(header(mail.raw, 'subject'), '[Ferry] demo editor: 1 session, 2 errors, 1 crashed — It broke when I clicked Save');
    assert.equal(header(mail.raw, 'reply-to'), 'user@example.com');
    assert.ok(mail.raw.includes(s.id), 'the body lists the session');
    const att = firstAttachment(mail.raw);
    assert.ok(att, 'has an attachment');
    assert.match(att.filename, /^demo-editor-\d{8}-\d{6}-1sessions\.ferry\.zip$/);
    assert.deepEqual(new Uint8Array(att.content), zip);
    assert.equal(await t.collector.store.getSession(s.id), undefined, 'relayed, not stored');
  });

  test('an invalid package is refused before anything is sent', async () => {
    const before = smtp.messages.length;
    const res = await send(zipOf({ '../x': 'y', [MANIFEST_ENTRY]: '{}' }));
    assert.equal(res.status, 400);
    assert.equal(smtp.messages.length, before);
  });

  test('an SMTP failure is a 502 the agent may retry', async () => {
    smtp.failNext(1);
    const s = makeSummary();
    const res = await send(makePackage([{ summary: s, messages: makeMessages(s.id, 1) }]));
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: string }).error, 'email-failed');
  });

  test('a product without recipients gets 404 email-not-configured', async () => {
    const s = makeSummary({ product: 'other' });
    const res = await send(makePackage([{ summary: s, messages: makeMessages(s.id, 1) }]), KEYS.other);
    assert.equal(res.status, 200, 'falls back to email.to');
    const t2 = await startTestCollector();
    try {
      const r2 = await t2.req(PATHS.packagesEmail, {
        method: 'POST',
        key: KEYS.all,
        headers: { 'content-type': 'application/zip' },
        body: new Uint8Array([1]),
      });
      assert.equal(r2.status, 404);
      assert.equal(((await r2.json()) as { error: string }).error, 'email-not-configured');
    } finally {
      await t2.close();
    }
  });
});
