/**
 * Schema migrations, shared by SQLite and PostgreSQL (BIGINT is INTEGER affinity in SQLite).
 * Times are epoch ms on the server clock; JSON columns are TEXT so both databases read alike.
 */
export const MIGRATIONS: readonly string[] = [
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
];

const split = (sql: string): string[] =>
  sql
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);

export const migrationStatements = (from: number): { version: number; statements: string[] }[] =>
  MIGRATIONS.slice(from).map((sql, i) => ({ version: from + i + 1, statements: split(sql) }));
