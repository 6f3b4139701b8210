-- quanlu ingest index, version 6: when the S3 Object Lock of a recording's objects was last set [EVIDENCE §22.4].
-- NULL, or older than ended_at: the lock sweep sets it again (a recording ended, or a rule or hold changed).
ALTER TABLE recordings ADD COLUMN locks_synced_at timestamptz;
