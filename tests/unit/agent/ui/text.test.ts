// The dialogs' words: a failed send explained for the user, labels merged and filled, sizes shown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LABELS, fill, formatBytes, mergeLabels } from '../../../../src/agent/ui/labels.js';
import { explain } from '../../../../src/agent/ui/reportDialog.js';

const sendError = (status: number | undefined, body?: { error: string; detail: string }, retryAfterMs?: number) =>
  Object.assign(new Error('sending the package to … answered'), { name: 'PackageSendError', status, body, retryAfterMs });

test('a PackageSendError in words: network, key, too large, busy, server, any other refusal; anything else is generic', () => {
  const L = DEFAULT_LABELS;
  assert.equal(explain(L, sendError(undefined)), 'The telemetry server could not be reached. Check your connection.');
  assert.equal(explain(L, sendError(401)), 'The telemetry server refused this app’s key (HTTP 401).');
  assert.equal(explain(L, sendError(403)), 'The telemetry server refused this app’s key (HTTP 403).');
  assert.match(explain(L, sendError(413)), /^The report is too large/);
  assert.equal(explain(L, sendError(429, undefined, 12_300)), 'The telemetry server is busy. Try again in 13 seconds.');
  assert.equal(explain(L, sendError(503)), 'The telemetry server had a problem (HTTP 503). Try again later.');
  assert.equal(explain(L, sendError(502, { error: 'email-failed', detail: 'the SMTP server did not accept the message' })), L.errorEmailFailed);
  assert.equal(
    explain(L, sendError(400, { error: 'bad-package', detail: 'manifest.json is missing' })),
    'The telemetry server refused the report (HTTP 400: manifest.json is missing).',
  );
  assert.equal(explain(L, new TypeError('criteria: must be a non-empty array')), L.errorOther);
  assert.equal(explain(L, undefined), L.errorOther);
});

test('labels: the app’s and the dialog’s layers override the defaults, only with strings; parts are filled in', () => {
  const L = mergeLabels({ send: 'Envoyer', cancel: 42 as unknown as string }, { send: 'Senden', unknownKey: 'x' } as never);
  assert.equal(L.send, 'Senden');
  assert.equal(L.cancel, 'Cancel', 'a value that is not a string is ignored');
  assert.equal((L as unknown as Record<string, unknown>).unknownKey, undefined);
  assert.equal(fill(L.selection, { count: 3, size: '1.2 MB' }), '3 sessions, 1.2 MB');
  assert.equal(fill('{a} and {b}', { a: 1 }), '1 and {b}', 'an unknown part stays as written');
});

test('sizes as a file manager shows them', () => {
  assert.deepEqual([0, 1023, 1024, 1_258_291, 15 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KB', '1.2 MB', '15 MB', '3.0 GB']);
});
