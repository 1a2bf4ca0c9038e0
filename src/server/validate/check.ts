/**
 * Hand-written validators for untrusted JSON. Each names the failing field as a path
 * (`sessions[2].counts.error`) so a 400 tells the sender exactly what to fix.
 */
import { nameProblem } from '../../shared/limits.js';
import { FieldError } from '../errors.js';

export type Obj = Record<string, unknown>;

export const at = (field: string, key: string): string => (field === '' ? key : `${field}.${key}`);

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Told of each field an object has beyond the allowed ones (its path and value), instead of refusing it. */
export type UnknownField = (field: string, value: unknown) => void;

/**
 * A plain object whose keys are all in `allowed`: an unknown field is refused, or, with
 * `unknown`, handed to it (a summary's fields from a newer agent are kept, not refused).
 */
export const obj = (v: unknown, field: string, allowed?: readonly string[], unknown?: UnknownField): Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError(field, `must be an object, got ${typeName(v)}`);
  if (allowed) {
    for (const [k, value] of Object.entries(v)) {
      if (allowed.includes(k)) continue;
      if (unknown) unknown(at(field, k), value);
      else throw new FieldError(at(field, k), 'unknown field');
    }
  }
  return v as Obj;
};

export interface StrOptions {
  min?: number;
  max: number;
  pattern?: RegExp;
  patternName?: string;
}

export const str = (v: unknown, field: string, o: StrOptions): string => {
  if (typeof v !== 'string') throw new FieldError(field, `must be a string, got ${typeName(v)}`);
  if (v.length < (o.min ?? 0)) throw new FieldError(field, o.min === 1 ? 'must not be empty' : `must have at least ${o.min} characters`);
  if (v.length > o.max) throw new FieldError(field, `must have at most ${o.max} characters`);
  if (o.pattern && !o.pattern.test(v)) throw new FieldError(field, `must be ${o.patternName ?? `like ${o.pattern}`}`);
  return v;
};

/** A product, application or version name, by the rule the agent's `init` applies too (shared/limits.ts). */
export const name = (v: unknown, field: string): string => {
  const problem = nameProblem(v);
  if (problem) throw new FieldError(field, problem);
  return v as string;
};

export const optStr = (v: unknown, field: string, o: StrOptions): string | undefined => (v === undefined ? undefined : str(v, field, o));

export const int = (v: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new FieldError(field, `must be an integer, got ${typeName(v)}`);
  if (v < min || v > max) throw new FieldError(field, `must be between ${min} and ${max}`);
  return v;
};

/** Epoch milliseconds: a finite, non-negative number below year 10000. */
export const time = (v: unknown, field: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(field, `must be a finite number (epoch ms), got ${typeName(v)}`);
  if (v < 0 || v > 253_402_300_799_999) throw new FieldError(field, 'must be epoch milliseconds between 1970 and 9999');
  return v;
};

export const bool = (v: unknown, field: string): boolean => {
  if (typeof v !== 'boolean') throw new FieldError(field, `must be true or false, got ${typeName(v)}`);
  return v;
};

export const oneOf = <T extends string>(v: unknown, field: string, values: readonly T[]): T => {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new FieldError(field, `must be one of ${values.join(', ')}`);
  return v as T;
};

export const arr = (v: unknown, field: string, max: number, min = 0): unknown[] => {
  if (!Array.isArray(v)) throw new FieldError(field, `must be an array, got ${typeName(v)}`);
  if (v.length > max) throw new FieldError(field, `must have at most ${max} items`);
  if (v.length < min) throw new FieldError(field, `must have at least ${min} item${min === 1 ? '' : 's'}`);
  return v;
};
