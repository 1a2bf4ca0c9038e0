/** The little SQL surface the store needs, implemented over better-sqlite3 and over pg. */
import { wellFormed } from '../well-formed.js';

export type SqlValue = string | number | null;

/**
 * Every text parameter as both databases can hold it (well-formed.ts): the last line of defence
 * for text that reaches SQL without a validator (a message's text indexed for search, a read-API
 * filter), so PostgreSQL never answers 500 where SQLite would have stored the value.
 */
export const textParams = (params: readonly SqlValue[]): SqlValue[] => params.map((p) => (typeof p === 'string' ? wellFormed(p) : p));

export interface Queryable {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface Db extends Queryable {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Serialises async sections (SQLite has one connection; a transaction must not interleave). */
export const createMutex = (): (<T>(fn: () => Promise<T> | T) => Promise<T>) => {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T> | T): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
};
