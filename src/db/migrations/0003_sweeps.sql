-- The sweep's bookkeeping: one row per sweep kind. `last_started_at` lets any API call decide, in
-- one conditional UPDATE, that a sweep is due and that it is the one to start it; `locked_until`
-- is a lease so two sweeps never run at once. A row lease rather than a session advisory lock,
-- because PgBouncer in transaction mode (port 25061) does not keep session state between
-- transactions (docs/platform-facts.md "Managed PostgreSQL").
CREATE TABLE sweeps (
  name             text        PRIMARY KEY,
  last_started_at  timestamptz NOT NULL DEFAULT '-infinity',
  last_finished_at timestamptz,
  locked_until     timestamptz NOT NULL DEFAULT '-infinity',
  locked_by        text,
  last_result      jsonb
);

INSERT INTO sweeps (name) VALUES ('main');
