-- quanlu ingest index, version 4: body-worn devices, their officers and their footage (issue 7).

-- The dock's entry kinds [EVIDENCE §4.8–§4.9]: a file offloaded from a device, and its later deletion or move.
ALTER TABLE entries DROP CONSTRAINT entries_kind_check;
ALTER TABLE entries ADD CONSTRAINT entries_kind_check
  CHECK (kind IN ('open', 'segment', 'gap', 'close', 'file', 'disposition'));

-- Body-worn devices (执法记录仪) and the officer each is assigned to now; docks sync this table.
CREATE TABLE devices (
  serial text PRIMARY KEY,
  officer text,
  assigned_by text NOT NULL,
  assigned_at timestamptz NOT NULL
);

-- Every change of a device's officer, in order (the current one is in devices).
CREATE TABLE device_assignments (
  id bigserial PRIMARY KEY,
  serial text NOT NULL,
  officer text,
  assigned_by text NOT NULL,
  assigned_at timestamptz NOT NULL
);
CREATE INDEX device_assignments_by_serial ON device_assignments (serial, id);

-- Body-worn footage: one row per indexed file entry, found by officer, device and time.
-- recorded_at is the file's modification time corrected by the device's clock offset, when reported.
CREATE TABLE footage (
  entry_hash text PRIMARY KEY REFERENCES entries (hash),
  recording uuid NOT NULL,
  track text NOT NULL,
  seq bigint NOT NULL,
  gateway text NOT NULL,
  device text NOT NULL,
  officer text,
  name text NOT NULL,
  object_sha256 text NOT NULL,
  size bigint NOT NULL,
  modified_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  container text,
  intact boolean,
  case_id text,
  -- 'deleted' or 'moved' once a disposition entry says the device copy is gone
  disposition text
);
CREATE INDEX footage_by_officer ON footage (officer, recorded_at);
CREATE INDEX footage_by_device ON footage (device, recorded_at);
CREATE INDEX footage_by_time ON footage (recorded_at);
CREATE INDEX footage_by_case ON footage (case_id) WHERE case_id IS NOT NULL;

-- Every assignment of footage to a case (or release from one), in order: who, when, why.
CREATE TABLE footage_assignments (
  id bigserial PRIMARY KEY,
  entry_hash text NOT NULL REFERENCES footage (entry_hash),
  case_id text,
  previous_case_id text,
  assigned_by text NOT NULL,
  assigned_at timestamptz NOT NULL,
  reason text NOT NULL
);
CREATE INDEX footage_assignments_by_entry ON footage_assignments (entry_hash, id);
