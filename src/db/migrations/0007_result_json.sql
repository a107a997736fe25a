-- The result as the analyzers ordered it. jobs.result is jsonb, which stores an object's keys
-- sorted (shorter first, then bytewise), so summaries and their fields came back scrambled:
-- `text` before `file`, `rows` before `valid`. A json column keeps the text as it was written.
--
-- Expand: process/file writes both columns, from one JSON text, and the status view reads
-- result_json first and `result` for jobs that finished before this release. The release
-- before this one neither reads nor writes result_json and still finds `result` (and the
-- succeeded-has-result CHECK still holds). A later release may stop writing `result` once no
-- running code reads it; dropping it is a contract step of its own.
ALTER TABLE jobs ADD COLUMN result_json json;
