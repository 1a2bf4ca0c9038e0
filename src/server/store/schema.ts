/**
 * Schema migrations, shared by SQLite and PostgreSQL (BIGINT is INTEGER affinity in SQLite).
 * Times are epoch ms on the server clock; JSON columns are TEXT so both databases read alike.
 */
export type Migration = string | { readonly sqlite: string; readonly postgres: string };

export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    application TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    clock_offset_ms BIGINT NOT NULL,
    worst INTEGER NOT NULL,
    n_critical BIGINT NOT NULL,
    n_error BIGINT NOT NULL,
    n_warning BIGINT NOT NULL,
    n_information BIGINT NOT NULL,
    n_verbose BIGINT NOT NULL,
    message_count BIGINT NOT NULL,
    summary TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    sent_at BIGINT,
    source TEXT NOT NULL,
    package_id TEXT,
    detail_sha256 TEXT,
    detail_compressed BIGINT,
    detail_bytes BIGINT,
    detail_messages BIGINT,
    detail_counts TEXT,
    detail_at BIGINT
  );
  CREATE INDEX sessions_started ON sessions (started_at, id);
  CREATE INDEX sessions_product_started ON sessions (product, started_at, id);
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    product TEXT NOT NULL,
    length BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    completed_at BIGINT
  );
  CREATE INDEX uploads_session ON uploads (session_id, state);
  CREATE INDEX uploads_state_expires ON uploads (state, expires_at);
  CREATE TABLE packages (
    id TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    created BIGINT NOT NULL,
    creator TEXT NOT NULL,
    criteria TEXT NOT NULL,
    description TEXT,
    reply_to TEXT,
    session_ids TEXT NOT NULL
  );
  CREATE INDEX packages_received ON packages (received_at);`,
  // The last seq of the summary and of the stored detail: a session sent while running (an error
  // asked for it) is replaced by its complete detail once it ends, and only by a newer one.
  `ALTER TABLE sessions ADD COLUMN last_seq BIGINT;
  ALTER TABLE sessions ADD COLUMN detail_last_seq BIGINT`,
  // Summary fields a newer agent sent that this collector does not know, as one JSON object
  // (bounded by EXTRA_LIMITS), so an additive protocol change never strands a session.
  `ALTER TABLE sessions ADD COLUMN extra TEXT`,
  // Session context (the Loupe agent's session properties), for the read API's filters. Older
  // summaries carry none, so nothing is backfilled. A tag's value is kept as text (numbers and
  // booleans as JSON writes them), so one equality answers `context.<key>=<value>`.
  `ALTER TABLE sessions ADD COLUMN environment TEXT;
  ALTER TABLE sessions ADD COLUMN user_id TEXT;
  ALTER TABLE sessions ADD COLUMN installation_id TEXT;
  CREATE INDEX sessions_environment ON sessions (environment, started_at);
  CREATE INDEX sessions_user ON sessions (user_id);
  CREATE INDEX sessions_installation ON sessions (installation_id);
  CREATE TABLE session_context (
    session_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (session_id, name)
  );
  CREATE INDEX session_context_name_value ON session_context (name, value, session_id)`,
  // Triage and data lifecycle (issue 11): exception groups and each session's share of them (its
  // example kept per session, so deleting a session deletes its text and the group takes another),
  // which detail was indexed (a crash between storing and indexing is caught up at start-up),
  // blobs whose rows are gone but whose files may still exist (deletion is crash-safe), and the
  // indexes retention and deletion select by.
  `ALTER TABLE sessions ADD COLUMN indexed_sha256 TEXT;
  CREATE INDEX sessions_product_received ON sessions (product, received_at, id);
  CREATE INDEX sessions_detail_sha ON sessions (detail_sha256);
  CREATE TABLE exception_groups (
    id TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    worst INTEGER NOT NULL,
    example_session TEXT NOT NULL,
    example_seq BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    sessions BIGINT NOT NULL
  );
  CREATE INDEX exception_groups_product_last ON exception_groups (product, last_seen);
  CREATE INDEX exception_groups_last ON exception_groups (last_seen);
  CREATE TABLE group_sessions (
    group_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    hits BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    first_seq BIGINT NOT NULL,
    example_text TEXT NOT NULL,
    example_stack TEXT,
    PRIMARY KEY (group_id, session_id)
  );
  CREATE INDEX group_sessions_session ON group_sessions (session_id);
  CREATE INDEX group_sessions_group_first ON group_sessions (group_id, first_seen);
  CREATE TABLE blob_deletions (
    sha256 TEXT PRIMARY KEY,
    at BIGINT NOT NULL
  )`,
  // Cross-session search. Terms are tokenised by the collector (triage/search-terms.ts) so both
  // databases match alike; SQLite keeps them in a contentless FTS5 index keyed by search_docs.id,
  // PostgreSQL in a tsvector column with a GIN index. `text` is a short excerpt for the result list.
  {
    sqlite: `CREATE TABLE search_docs (
      id INTEGER PRIMARY KEY,
      session_id TEXT NOT NULL,
      seq BIGINT NOT NULL,
      time BIGINT NOT NULL,
      severity INTEGER NOT NULL,
      category TEXT NOT NULL,
      text TEXT NOT NULL
    );
    CREATE INDEX search_docs_session ON search_docs (session_id);
    CREATE VIRTUAL TABLE search_fts USING fts5(terms, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0')`,
    postgres: `CREATE TABLE search_docs (
      id BIGSERIAL PRIMARY KEY,
      session_id TEXT NOT NULL,
      seq BIGINT NOT NULL,
      time BIGINT NOT NULL,
      severity INTEGER NOT NULL,
      category TEXT NOT NULL,
      text TEXT NOT NULL,
      terms TSVECTOR NOT NULL
    );
    CREATE INDEX search_docs_session ON search_docs (session_id);
    CREATE INDEX search_docs_terms ON search_docs USING GIN (terms)`,
  },
  // The chunks a packager had to leave out of a package (manifest `problems`, as JSON, at most
  // PROBLEM_LIMITS.maxStored) and how many more it listed. Older packages have none.
  `ALTER TABLE packages ADD COLUMN problems TEXT;
  ALTER TABLE packages ADD COLUMN problems_omitted BIGINT`,
];

const split = (sql: string): string[] =>
  sql
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);

export const migrationStatements = (from: number, dialect: 'sqlite' | 'postgres' = 'sqlite'): { version: number; statements: string[] }[] =>
  MIGRATIONS.slice(from).map((m, i) => ({ version: from + i + 1, statements: split(typeof m === 'string' ? m : m[dialect]) }));
