-- The ETag `complete` saw when it checked the object (HEAD), so process/file can read exactly those
-- bytes: GET with If-Match, every resumed range too. A presigned PUT stays valid until it expires,
-- even after `complete`, so without the pin a second PUT could replace the object and the result
-- would describe bytes nobody checked (docs/platform-facts.md "Spaces").
--
-- Additive: the release before this one neither reads nor writes it, and a job it queued has none
-- (read unpinned, as before).
ALTER TABLE jobs ADD COLUMN object_etag text;
