// The collector's bad-input classes that cut across endpoints (issue 12). Each class is tried on
// every place it applies to; nothing partial may be stored and no refusal may be a 5xx.
//
// - trailing garbage in every container format: zip (after the end record, between the central
//   directory and it), deflate (after an entry's stream, for the manifest and a session entry),
//   gzip (after a detail upload's member);
// - concurrent duplicates on every package write path: package-races.test.ts (SQLite and
//   PostgreSQL: the same package at once, different copies of a session at once, a package and an
//   upload of one session at once).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { encodeMessages } from '../../../src/shared/message.js';
import { MANIFEST_ENTRY, sessionEntryName } from '../../../src/shared/package-format.js';
import { PATHS } from '../../../src/shared/protocol.js';
import { countsWith, makeManifest, makeMessages, makePackage, makeSummary, sha256 } from './fixtures.js';
import { createUpload, KEYS, patch, startTestCollector, type TestCollector } from './harness.js';
import { buildZip, entryOf, type RawEntry } from './zip-build.js';

describe('trailing garbage in every container format', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector();
  });
  after(() => t.close());

  const JUNK = [Buffer.from('x'), Buffer.from('trailing junk\n'), Buffer.alloc(64, 0), Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from([0x50, 0x4b, 5, 6])];

  const refusePackage = async (zip: Uint8Array, detail: RegExp, id: string): Promise<void> => {
    const res = await t.req(PATHS.packages, {
      method: 'POST',
      key: KEYS.all,
      headers: { 'content-type': 'application/zip' },
      body: zip as Uint8Array<ArrayBuffer>,
    });
    const body = (await res.json()) as { error: string; detail: string };
    assert.equal(res.status, 400, body.detail);
    assert.equal(body.error, 'bad-package');
    assert.match(body.detail, detail);
    assert.equal(await t.collector.store.getSession(id), undefined, 'nothing stored');
  };

  test('zip: after the end-of-central-directory record, and between the directory and the record', async () => {
    for (const junk of JUNK) {
      const s = makeSummary();
      const zip = Buffer.from(makePackage([{ summary: s, messages: makeMessages(s.id, 2) }]));
      await refusePackage(Buffer.concat([zip, junk]), /trailing data after the end of central directory record|runs past the end/, s.id);
      const eocd = zip.length - 22;
      await refusePackage(Buffer.concat([zip.subarray(0, eocd), junk, zip.subarray(eocd)]), /unexplained data before the end of central directory/, s.id);
    }
  });

  test('deflate: after the stream of the manifest entry and of a session entry', async () => {
    const withJunk = (e: RawEntry, junk: Buffer): RawEntry => ({ ...e, data: Buffer.concat([e.data, junk]) });
    for (const junk of JUNK) {
      const s = makeSummary();
      const manifest = entryOf(MANIFEST_ENTRY, JSON.stringify(makeManifest([s])));
      const session = entryOf(sessionEntryName(s.id), encodeMessages(makeMessages(s.id, 4)));
      await refusePackage(
        buildZip([withJunk(manifest, junk), session]),
        /zip entry manifest\.json has \d+ bytes of trailing data after its deflate stream/,
        s.id,
      );
      await refusePackage(
        buildZip([manifest, withJunk(session, junk)]),
        new RegExp(`zip entry sessions/${s.id}\\.ndjson has \\d+ bytes of trailing data`),
        s.id,
      );
    }
  });

  test('gzip: after the member of a detail upload', async () => {
    for (const junk of JUNK) {
      const s = makeSummary({ counts: countsWith({ error: 1 }) });
      await t.summaries([s]);
      const blob = Buffer.concat([gzipSync(encodeMessages(makeMessages(s.id, 5))), junk]);
      const created = await createUpload(t, { sessionId: s.id, length: blob.length, sha256: sha256(blob) });
      assert.equal(created.status, 201);
      const res = await patch(t, created.headers.get('location') ?? '', 0, blob);
      const body = (await res.json()) as { error: string; detail: string };
      assert.equal(res.status, 400, body.detail);
      assert.equal(body.error, 'bad-gzip');
      assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined, 'no detail stored');
    }
  });
});
