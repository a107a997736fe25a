-- Work-conserving dispatch (src/db/dispatch.ts, src/jobs/handoff.ts). Additive only: the release
-- before this one neither reads nor writes any of it.

-- The pick counts queued jobs reserved within the redispatch window as busy; without this index
-- that count reads the whole queue on every pick, and a backlog is exactly when picks are frequent.
CREATE INDEX jobs_queued_dispatched ON jobs (dispatched_at) WHERE status = 'queued' AND dispatched_at IS NOT NULL;

-- One row: which activation stands by to start jobs that become startable soon (a retry's backoff
-- ending, the invocation rate window reopening), and until when. A lease, so a killed holder frees
-- it by itself.
CREATE TABLE dispatch_standby (
  name       text        PRIMARY KEY,
  held_until timestamptz NOT NULL DEFAULT '-infinity',
  held_by    text
);

INSERT INTO dispatch_standby (name) VALUES ('main');
