// Turns whatever the app passed into the strings and JSON a message holds, without throwing
// and within MESSAGE_LIMITS (circular objects, BigInt, huge strings, hostile toString).
import { type ExceptionInfo, MESSAGE_LIMITS, TRUNCATION_MARKER } from '../../shared/message.js';

export const truncate = (s: string, max: number): string => (s.length <= max ? s : s.slice(0, max - TRUNCATION_MARKER.length) + TRUNCATION_MARKER);

export const safeString = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  try {
    if (typeof v === 'object' && v !== null && !(v instanceof Error)) {
      const json = safeJson(v, MESSAGE_LIMITS.maxTextLength);
      if (json !== undefined) return json;
    }
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};

export const text = (v: unknown): string => truncate(safeString(v), MESSAGE_LIMITS.maxTextLength);
export const category = (v: unknown): string => truncate(safeString(v) || 'General', MESSAGE_LIMITS.maxCategoryLength);

/**
 * JSON of `v` with cycles replaced by "[Circular]", BigInt as strings, Errors as
 * {name, message, stack}; undefined when `v` is not representable. Over `max` characters
 * the result becomes a truncated preview string (still valid JSON).
 */
export const safeJson = (v: unknown, max: number = MESSAGE_LIMITS.maxDetailsLength): string | undefined => {
  let json = plainJson(v);
  if (json === undefined) json = guardedJson(v);
  if (json === undefined) return undefined;
  if (json.length <= max) return json;
  // Escaping grows the preview (quotes become \"), so shrink until the JSON string fits.
  let cut = max - 2;
  let preview = JSON.stringify(truncate(json, cut));
  while (preview.length > max) preview = JSON.stringify(truncate(json, (cut = Math.floor(cut * 0.75))));
  return preview;
};

/** Whether `v` holds an Error anywhere (plain JSON would have written it as {}). */
const holdsError = (v: unknown, depth = 0): boolean => {
  if (v instanceof Error) return true;
  if (typeof v !== 'object' || v === null || depth > 20) return false;
  for (const k in v) if (holdsError((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
};

/**
 * The common case at native speed: JSON.stringify without a replacer is several times faster than
 * with one. It throws on a cycle or a BigInt, and writes an Error as {}: then (and only when the
 * output has an empty object, so the walk is rare) the guarded path takes over. Undefined means
 * "use the guarded path".
 */
const plainJson = (v: unknown): string | undefined => {
  if (typeof v !== 'object' || v === null) return undefined;
  try {
    const json = JSON.stringify(v);
    return json.includes('{}') && holdsError(v) ? undefined : json;
  } catch {
    return undefined;
  }
};

const guardedJson = (v: unknown): string | undefined => {
  const seen = new WeakSet<object>();
  let json: string | undefined;
  try {
    json = JSON.stringify(v, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'function' || typeof value === 'symbol') return undefined;
      if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  } catch {
    json = JSON.stringify('[unserialisable]');
  }
  return json;
};

/** The stack with each `cause` appended, Java style ("Caused by: …"), so the chain travels in the existing field. */
const withCauses = (e: unknown, stack: string): string => {
  let out = stack;
  let cause = (e as { cause?: unknown }).cause;
  for (let depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const c = cause as { name?: unknown; message?: unknown; stack?: unknown; cause?: unknown };
    const head = cause instanceof Error ? `${c.name}: ${c.message}` : safeString(cause);
    const body = typeof c.stack === 'string' ? c.stack.split('\n').slice(1).join('\n') : '';
    out += `${out ? '\n' : ''}Caused by: ${head}${body ? `\n${body}` : ''}`;
    cause = typeof cause === 'object' ? c.cause : undefined;
  }
  return out;
};

export const exceptionInfo = (e: unknown): ExceptionInfo => {
  try {
    if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e && 'name' in e)) {
      const err = e as { name: unknown; message: unknown; stack?: unknown };
      const info: ExceptionInfo = { name: truncate(safeString(err.name) || 'Error', 256), message: text(err.message) };
      const stack = withCauses(e, typeof err.stack === 'string' ? err.stack : '');
      if (stack) info.stack = truncate(stack, MESSAGE_LIMITS.maxStackLength);
      return info;
    }
    const name = e === null ? 'null' : typeof e === 'object' ? ((e as object).constructor?.name ?? 'Object') : typeof e;
    return { name, message: text(e) };
  } catch {
    return { name: 'Unknown', message: '[unreadable exception]' };
  }
};
