/**
 * Every config setting as an environment variable, by one rule: `FERRY_` + the setting's path,
 * each level in UPPER_SNAKE_CASE, levels joined by `__`: `port` is FERRY_PORT,
 * `rateLimit.perMinute` is FERRY_RATE_LIMIT__PER_MINUTE, `blobs.bucket` is FERRY_BLOBS__BUCKET.
 * An object setting can also be given whole as JSON (FERRY_BLOBS='{"kind":"s3",…}'), lists as
 * JSON or comma-separated, booleans as true/false/1/0. `<NAME>_FILE` reads the value from a file
 * (container secrets). The names come from the config schema, so a new setting gets its variable.
 */
import { readFileSync } from 'node:fs';
import type { JsonSchema } from './config-schema.js';

export interface EnvSetting {
  name: string;
  path: string[];
  schema: JsonSchema;
}

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

export const envName = (path: readonly string[]): string => `FERRY_${path.map(snake).join('__')}`;

/** Every variable, objects included (they take JSON), in schema order. */
export const envSettings = (schema: JsonSchema, path: string[] = []): EnvSetting[] => {
  const out: EnvSetting[] = [];
  for (const [k, sub] of Object.entries(schema.properties ?? {})) {
    if (k.startsWith('$') || k === 'comment') continue;
    const p = [...path, k];
    out.push({ name: envName(p), path: p, schema: sub });
    if (sub.type === 'object' && sub.properties) out.push(...envSettings(sub, p));
  }
  return out;
};

export class EnvError extends Error {
  override name = 'EnvError';
}

const parseValue = (name: string, raw: string, s: JsonSchema): unknown => {
  const json = (): unknown => {
    try {
      return JSON.parse(raw);
    } catch {
      throw new EnvError(`${name} is not valid JSON`);
    }
  };
  switch (s.type) {
    case 'integer': {
      const n = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(n)) throw new EnvError(`${name} must be an integer, got "${raw.slice(0, 40)}"`);
      return n;
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(raw.trim())) return true;
      if (/^(false|0|no)$/i.test(raw.trim())) return false;
      throw new EnvError(`${name} must be true or false, got "${raw.slice(0, 40)}"`);
    case 'array':
      if (raw.trim().startsWith('[')) return json();
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    case 'object':
      return json();
    default:
      return raw;
  }
};

const setAt = (target: Record<string, unknown>, path: readonly string[], value: unknown): void => {
  let o = target;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    o[k] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as object) } : {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
};

/**
 * `raw` (the parsed config file) with every FERRY_* variable set in `env` applied over it: a
 * whole object first, then its fields, so FERRY_BLOBS and FERRY_BLOBS__BUCKET combine.
 */
export const applyEnv = (
  schema: JsonSchema,
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  skip: ReadonlySet<string> = new Set(),
): Record<string, unknown> => {
  const out = structuredClone(raw);
  for (const s of envSettings(schema)) {
    if (skip.has(s.name)) continue;
    let value = env[s.name];
    const file = env[`${s.name}_FILE`];
    if (value === undefined && file !== undefined) {
      try {
        value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (e) {
        throw new EnvError(`${s.name}_FILE: cannot read ${file}: ${(e as Error).message}`);
      }
    }
    if (value === undefined || value === '') continue;
    setAt(out, s.path, parseValue(s.name, value, s.schema));
  }
  return out;
};
