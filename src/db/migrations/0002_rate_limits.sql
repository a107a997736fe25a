-- Per-client usage counters in fixed windows (uploads per hour, bytes per UTC day). One row per
-- client, kind and window; `consume` is a single INSERT … ON CONFLICT DO UPDATE … WHERE that only
-- increments while within the limit, so concurrent creates can never overshoot (src/db/rate-limits.ts).
CREATE TABLE rate_limit_counters (
  client_id    text        NOT NULL,
  kind         text        NOT NULL CHECK (kind IN ('uploads_per_hour', 'bytes_per_day')),
  window_start timestamptz NOT NULL,
  used         bigint      NOT NULL CHECK (used >= 0),
  PRIMARY KEY (client_id, kind, window_start)
);

-- Old windows are deleted by the sweep.
CREATE INDEX rate_limit_counters_window ON rate_limit_counters (window_start);
