/** The collector's log lines: values from clients cannot forge lines, fields or terminal escapes. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../../src/server/collector.js';
import { createLogger, escapeText } from '../../../src/server/log.js';
import { baseConfig } from './harness.js';

const ESC = '\u001b';
const CSI = '\u009b';
// Everything a terminal or a line reader acts on: C0 (newline, CR, ESC, BEL), DEL, C1, U+2028/9.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const capture = (format: 'json' | 'pretty') => {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', format, write: (l) => lines.push(l), now: () => 0 }) };
};

const forged = `/api/x\n00:00:00.000 error forged line\r${ESC}[2J${ESC}]0;title\u0007${CSI}31m\u2028end\u007f`;

test('pretty format: control characters and newlines in the message, keys and values are escaped', () => {
  const { lines, log } = capture('pretty');
  log.info(`msg ${forged}`, { path: forged, 'k\ney': 'v', nested: { p: forged }, n: 5 });
  assert.equal(lines.length, 1);
  const line = lines[0];
  assert.doesNotMatch(line, CONTROL, JSON.stringify(line));
  assert.match(line, /\\u000a00:00:00\.000 error forged line\\u000d\\u001b\[2J/);
  assert.match(line, /\\u009b31m\\u2028end\\u007f/);
  assert.match(line, /k\\u000aey=v/);
  assert.match(line, / n=5$/);
});

test('pretty format: a value cannot pose as another field; plain values stay bare', () => {
  const { lines, log } = capture('pretty');
  log.info('request', { path: '/a status=200', method: 'GET', quote: 'say "hi"', empty: '' });
  assert.equal(lines[0], '00:00:00.000 info  request path="/a status=200" method=GET quote="say \\"hi\\"" empty=""');
});

test('json format: one valid JSON line, no control character raw, the value intact when parsed', () => {
  const { lines, log } = capture('json');
  log.warn(forged, { path: forged });
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0], CONTROL);
  const parsed = JSON.parse(lines[0]) as { msg: string; path: string };
  assert.equal(parsed.msg, forged);
  assert.equal(parsed.path, forged);
});

test('escapeText leaves ordinary text alone', () => {
  assert.equal(escapeText('héllo wörld 😀 /api/v1?x=1'), 'héllo wörld 😀 /api/v1?x=1');
});

test('a crafted request path is logged as one escaped line by a collector using the pretty format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-log-'));
  const { lines, log } = capture('pretty');
  const c = await startCollector(baseConfig(dir, { log: { level: 'debug', format: 'pretty', requests: true } }), { log, listen: false });
  try {
    const path = `/nothing%0A00:00:00.000%20info%20%20forged%0D%1B%5B31m%C2%9B1m`;
    const res = await c.app.fetch(new Request(`http://localhost${path}`));
    assert.equal(res.status, 404);
    const request = lines.filter((l) => l.includes('/nothing'));
    assert.equal(request.length, 1, lines.join('\n'));
    assert.doesNotMatch(request[0], CONTROL);
    assert.ok(!lines.some((l) => l.startsWith('00:00:00.000 info  forged')), 'no forged line');
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
