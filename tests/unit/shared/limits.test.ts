import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutToLength, fitSummary, NAME_MAX_LENGTH, nameProblem, SUMMARY_LIMITS } from '../../../src/shared/limits.js';
import { emptyCounts } from '../../../src/shared/severity.js';
import { emptyLoss, type SessionSummary } from '../../../src/shared/summary.js';

const summary = (over: Partial<SessionSummary> = {}): SessionSummary => ({
  id: '01900000-0000-7000-8000-000000000000',
  product: 'Acme Suite',
  application: 'Editor',
  version: '4.2.0',
  status: 'ended',
  startedAt: 1,
  endedAt: 2,
  counts: emptyCounts(),
  messageCount: 0,
  lastSeq: 0,
  bytes: 0,
  userAgent: 'ua',
  url: 'https://app.example.com/',
  agentVersion: '0.1.0',
  persistence: 'indexeddb',
  dropped: emptyLoss(),
  ...over,
});

test('names: spaces and any Unicode are fine; empty, too long, padded or with control characters are not', () => {
  for (const ok of ['Acme Suite', 'demo', 'acme:web', 'Éditeur 4', '編集者', 'a/b', 'x'.repeat(NAME_MAX_LENGTH), '😀 party'])
    assert.equal(nameProblem(ok), undefined, `"${ok}" is a name`);
  const bad: [unknown, RegExp][] = [
    ['', /must not be empty/],
    ['x'.repeat(NAME_MAX_LENGTH + 1), /at most 100 characters/],
    [' Acme', /white space/],
    ['Acme\u00a0', /white space/],
    ['Acme\nSuite', /control characters/],
    ['Acme\u0000', /control characters/],
    ['Acme\u0085Suite', /control characters/],
    ['Acme\ud800Suite', /control characters/],
    ['Acme\udc00', /control characters/],
    [42, /must be a string, got number/],
    [null, /must be a string, got null/],
  ];
  for (const [v, re] of bad) assert.match(nameProblem(v) ?? 'accepted', re, `${JSON.stringify(v)} is refused`);
});

test('cutToLength never splits a surrogate pair and leaves short strings alone', () => {
  assert.equal(cutToLength('abc', 5), 'abc');
  assert.equal(cutToLength('abcdef', 3), 'abc');
  assert.equal(cutToLength('ab😀', 3), 'ab', 'the emoji is two code units: both go, not one');
  assert.equal(cutToLength('ab😀', 4), 'ab😀');
});

test('fitSummary cuts the user agent, URL and agent version to the collector limits, and nothing else', () => {
  const s = summary({ userAgent: 'u'.repeat(5000), url: `https://app.example.com/${'p'.repeat(9000)}`, agentVersion: 'v'.repeat(100) });
  const fitted = fitSummary(s);
  assert.equal(fitted.userAgent.length, SUMMARY_LIMITS.userAgent);
  assert.equal(fitted.url.length, SUMMARY_LIMITS.url);
  assert.equal(fitted.agentVersion.length, SUMMARY_LIMITS.agentVersion);
  assert.ok(fitted.url.startsWith('https://app.example.com/ppp'), 'the start of the URL is kept');
  assert.equal(s.userAgent.length, 5000, 'the input is not changed');
  assert.deepEqual({ ...fitted, userAgent: s.userAgent, url: s.url, agentVersion: s.agentVersion }, s, 'every other field as it was');
  const small = summary();
  assert.equal(fitSummary(small), small, 'a summary within the limits is returned as is');
});
