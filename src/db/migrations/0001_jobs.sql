-- Jobs and their history. The state machine is docs/architecture.md "Job state machine"; the CHECKs make the
-- database refuse states and combinations the code must never produce, so a bug fails loudly
-- instead of leaving a job nobody will pick up.

CREATE TABLE jobs (
  id               uuid        PRIMARY KEY,
  status           text        NOT NULL DEFAULT 'awaiting_upload'
                   CHECK (status IN ('awaiting_upload', 'queued', 'processing', 'succeeded',
                                     'failed', 'rejected', 'cancelled', 'expired')),
  -- What the client declared at create (filename already sanitised).
  filename         text        NOT NULL CHECK (length(filename) > 0),
  object_key       text        NOT NULL UNIQUE,
  size             bigint      NOT NULL CHECK (size > 0),
  content_type     text        NOT NULL,
  sha256           text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  -- SHA-256 of the job token: the token itself is returned once and never stored.
  token_hash       bytea       NOT NULL CHECK (length(token_hash) = 32),
  -- Who created it: 'key:<hash prefix>' or 'ip:<address>' (rate limits, audit).
  client_id        text        NOT NULL,
  upload_kind      text        NOT NULL CHECK (upload_kind IN ('single', 'multipart')),
  upload_id        text,
  part_size        bigint      CHECK (part_size > 0),
  part_count       integer     CHECK (part_count BETWEEN 1 AND 10000),
  -- Processing (issue 4): attempts counts claims; every activation write is fenced on it.
  attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     integer     NOT NULL CHECK (max_attempts > 0),
  run_after        timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz,
  activation_id    text,
  build_id         text,
  dispatched_at    timestamptz,
  result           jsonb,
  error_code       text,
  error_message    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- Deadline for the bytes: an awaiting_upload job past it is expired by the sweep.
  expires_at       timestamptz NOT NULL,
  finished_at      timestamptz,

  CONSTRAINT jobs_multipart_shape CHECK (
    (upload_kind = 'multipart') = (upload_id IS NOT NULL AND part_size IS NOT NULL AND part_count IS NOT NULL)
  ),
  CONSTRAINT jobs_processing_has_lease CHECK (status <> 'processing' OR lease_expires_at IS NOT NULL),
  CONSTRAINT jobs_finished_states CHECK (
    (status IN ('succeeded', 'failed', 'rejected', 'cancelled', 'expired')) = (finished_at IS NOT NULL)
  ),
  CONSTRAINT jobs_succeeded_has_result CHECK (status <> 'succeeded' OR result IS NOT NULL)
);

-- The sweep and dispatch look for due queued jobs (docs/architecture.md: claim `status = 'queued' AND
-- run_after <= now()`); partial, so finished jobs never bloat it.
CREATE INDEX jobs_queued_run_after ON jobs (run_after) WHERE status = 'queued';
-- Expired leases (`status = 'processing' AND lease_expires_at < now()`), and the count of
-- processing jobs against MAX_CONCURRENT_JOBS.
CREATE INDEX jobs_processing_lease ON jobs (lease_expires_at) WHERE status = 'processing';
-- Uploads never completed: the sweep checks them for an object, and expires them past expires_at.
CREATE INDEX jobs_awaiting_upload_expires ON jobs (expires_at) WHERE status = 'awaiting_upload';

CREATE TABLE job_events (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id        uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  -- clock_timestamp, not now(): several events of one transaction keep their real order in time.
  at            timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- What happened ('created', 'uploaded', 'dispatched', 'claimed', …); from/to are the statuses
  -- around it (equal for events that are not transitions, like a dispatch).
  event         text        NOT NULL,
  from_status   text,
  to_status     text        NOT NULL,
  attempt       integer     NOT NULL,
  activation_id text,
  -- The code that made the change (action version / build id).
  code_version  text,
  detail        jsonb
);

-- A job's history in order (status view).
CREATE INDEX job_events_job ON job_events (job_id, id);
