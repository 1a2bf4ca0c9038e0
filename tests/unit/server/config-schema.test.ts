/**
 * The config file's JSON Schema agrees with parseConfig (config.ts), and every setting is an
 * environment variable by the documented rule (config-env.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { CONFIG_SCHEMA, DEFAULT_CONFIG, loadConfig, parseConfig, TOP_FIELDS } from '../../../src/server/config.js';
import { envName, envSettings } from '../../../src/server/config-env.js';
import type { JsonSchema } from '../../../src/server/config-schema.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(CONFIG_SCHEMA);

type Leaf = { path: string[]; schema: JsonSchema };
/** Settings with a fixed place (not inside the products map or the static list). */
const leaves = (): Leaf[] => envSettings(CONFIG_SCHEMA).filter((s) => !(s.schema.type === 'object' && s.schema.properties));

const getAt = (o: unknown, path: readonly string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
const setAt = (o: Record<string, unknown>, path: readonly string[], v: unknown): void => {
  let t = o;
  for (const k of path.slice(0, -1)) t = (t[k] ??= {}) as Record<string, unknown>;
  t[path[path.length - 1]] = v;
};
const example = (s: JsonSchema): unknown => s.examples?.[0] ?? s.default ?? s.enum?.[0];

/** A config using every setting, each at its schema example. */
const full = (): Record<string, unknown> => {
  const c: Record<string, unknown> = {};
  for (const l of leaves()) setAt(c, l.path, example(l.schema));
  return c;
};

test('the schema has exactly the top-level fields parseConfig accepts', () => {
  assert.deepEqual(Object.keys(CONFIG_SCHEMA.properties ?? {}).sort(), [...TOP_FIELDS].sort());
});

test('every setting has an example in the schema, and a config of all examples is valid for both', () => {
  for (const l of leaves()) assert.notEqual(example(l.schema), undefined, `${l.path.join('.')} has an example or default`);
  const c = full();
  assert.ok(validate(c), JSON.stringify(validate.errors));
  const parsed = parseConfig(c);
  for (const l of leaves()) assert.deepEqual(getAt(parsed, l.path), getAt(c, l.path), l.path.join('.'));
});

test('the defaults are valid for the schema, and the schema states them', () => {
  assert.ok(validate(JSON.parse(JSON.stringify(DEFAULT_CONFIG))), JSON.stringify(validate.errors));
  for (const l of leaves()) {
    if (l.schema.default === undefined) continue;
    const d = getAt(DEFAULT_CONFIG, l.path);
    if (d !== undefined) assert.deepEqual(d, l.schema.default, `default of ${l.path.join('.')}`);
  }
});

test('a value of the wrong type, or below its minimum, is refused by both', () => {
  const wrong: Record<string, unknown> = { string: 12, integer: 'x', boolean: 'x', array: 'x', object: 'x' };
  for (const l of leaves()) {
    const bad: unknown[] = [wrong[l.schema.type ?? 'string']];
    if (l.schema.minimum !== undefined) bad.push(l.schema.minimum - 1);
    if (l.schema.enum) bad.push('not-one-of-them');
    for (const v of bad) {
      const c = full();
      setAt(c, l.path, v);
      const name = `${l.path.join('.')} = ${JSON.stringify(v)}`;
      assert.equal(validate(c), false, `schema refuses ${name}`);
      assert.throws(() => parseConfig(c), `parseConfig refuses ${name}`);
    }
  }
  const c = full();
  (c.limits as Record<string, unknown>).unknownLimit = 1;
  assert.equal(validate(c), false);
  assert.throws(() => parseConfig(c));
});

test('collector/config.schema.json is the generated schema (npm run build:collector writes it)', () => {
  const file = readFileSync(new URL('../../../collector/config.schema.json', import.meta.url), 'utf8');
  assert.equal(file, `${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`);
});

/** Variables the settings of a group need beside them (a kind, a required field). */
const CONTEXT: Record<string, Record<string, string>> = {
  store: { FERRY_STORE__KIND: 'postgres', FERRY_STORE__URL: 'postgres://ferry@db/ferry' },
  blobs: { FERRY_BLOBS__KIND: 's3', FERRY_BLOBS__BUCKET: 'ferry-blobs', FERRY_BLOBS__ACCESS_KEY_ID: 'id', FERRY_BLOBS__SECRET_ACCESS_KEY: 'secret' },
  email: { FERRY_EMAIL__SMTP__HOST: 'smtp.example.com', FERRY_EMAIL__FROM: 'ferry@example.com' },
};
const envText = (v: unknown): string => (typeof v === 'object' ? JSON.stringify(v) : String(v));

test('every setting is an environment variable: FERRY_ + path in UPPER_SNAKE, levels joined by __', () => {
  assert.equal(envName(['rateLimit', 'perMinute']), 'FERRY_RATE_LIMIT__PER_MINUTE');
  assert.equal(envName(['email', 'smtp', 'host']), 'FERRY_EMAIL__SMTP__HOST');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-env-'));
  try {
    for (const l of leaves()) {
      const name = envName(l.path);
      const v = example(l.schema);
      const c = loadConfig([], { ...CONTEXT[l.path[0]], [name]: envText(v) }, dir);
      // Folders are resolved against the working directory.
      const expected = l.path[0] === 'static' ? (v as { prefix: string; dir: string }[]).map((s) => ({ ...s, dir: resolve(dir, s.dir) })) : v;
      assert.deepEqual(getAt(c, l.path), expected, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('environment forms: a whole object as JSON with fields over it, comma lists, _FILE secrets, clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-env-'));
  try {
    writeFileSync(join(dir, 'secret'), 'from-a-file-secret-value\n');
    const c = loadConfig(
      [],
      {
        FERRY_BLOBS: '{"kind":"s3","bucket":"one-bucket","forcePathStyle":true}',
        FERRY_BLOBS__BUCKET: 'other-bucket',
        FERRY_BLOBS__SECRET_ACCESS_KEY_FILE: join(dir, 'secret'),
        FERRY_BLOBS__ACCESS_KEY_ID: 'id-1',
        FERRY_ADMIN_TOKENS: 'first-admin-token-00001, second-admin-token-0002',
        FERRY_TRUST_PROXY: '1',
      },
      dir,
    );
    assert.deepEqual(c.blobs, {
      kind: 's3',
      bucket: 'other-bucket',
      region: 'us-east-1',
      forcePathStyle: true,
      prefix: '',
      accessKeyId: 'id-1',
      secretAccessKey: 'from-a-file-secret-value',
    });
    assert.deepEqual(c.adminTokens, ['first-admin-token-00001', 'second-admin-token-0002']);
    assert.equal(c.trustProxy, true);
    assert.throws(() => loadConfig([], { FERRY_RATE_LIMIT__BURST: 'many' }, dir), /FERRY_RATE_LIMIT__BURST must be an integer/);
    assert.throws(() => loadConfig([], { FERRY_LOG: '{oops' }, dir), /FERRY_LOG is not valid JSON/);
    assert.throws(() => loadConfig([], { FERRY_BLOBS__KIND: 's3' }, dir), /blobs\.bucket/);
    // The short forms documented before the rule still work.
    assert.equal(loadConfig([], { FERRY_STORE: 'sqlite', FERRY_LOG_LEVEL: 'warn' }, dir).log.level, 'warn');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
