-- When the sweep last looked in the bucket for an awaiting_upload job's bytes (the client may have
-- uploaded and vanished before `complete`). The sweep checks a bounded batch per run, least
-- recently checked first, so with more waiting jobs than one batch every job still gets its turn.
ALTER TABLE jobs ADD COLUMN upload_checked_at timestamptz;

CREATE INDEX jobs_awaiting_upload_checked ON jobs (upload_checked_at NULLS FIRST) WHERE status = 'awaiting_upload';
