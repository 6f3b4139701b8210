-- quanlu ingest index, version 5: retention classes, legal holds and tombstones (issue 9 part 4).

-- Retention set by an administrator, for a matter type, a case or one recording [EVIDENCE §22.1].
-- class NULL: no class at this level (the next level decides); evidence: used as evidence → permanent.
CREATE TABLE retention_rules (
  scope text NOT NULL CHECK (scope IN ('matter', 'case', 'recording')),
  target text NOT NULL,
  class text CHECK (class IN ('standard', 'long', 'permanent')),
  evidence boolean NOT NULL DEFAULT false,
  reason text NOT NULL,
  set_by text NOT NULL,
  set_at timestamptz NOT NULL,
  PRIMARY KEY (scope, target)
);

-- Legal holds (法律保全) on a case or one recording: active while released_at is NULL. Never deleted.
CREATE TABLE legal_holds (
  id bigserial PRIMARY KEY,
  scope text NOT NULL CHECK (scope IN ('case', 'recording')),
  target text NOT NULL,
  reason text NOT NULL,
  held_by text NOT NULL,
  held_at timestamptz NOT NULL,
  released_by text,
  released_at timestamptz,
  release_reason text
);
CREATE INDEX legal_holds_active ON legal_holds (scope, target) WHERE released_at IS NULL;

-- Signed tombstones [EVIDENCE §22.2]: one per deleted recording. Each is a leaf of the transparency log,
-- numbered from the entries' acceptance sequence so that entries and tombstones share one leaf order.
CREATE TABLE tombstones (
  hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
  recording uuid NOT NULL UNIQUE REFERENCES recordings (id),
  tombstone_text text NOT NULL,
  sig text NOT NULL,
  deleted_at timestamptz NOT NULL,
  -- set once every object the tombstone names is gone from the store
  purged_at timestamptz,
  log_index bigint NOT NULL UNIQUE DEFAULT nextval('entries_log_index_seq'::regclass),
  leaf_index bigint UNIQUE
);
CREATE INDEX tombstones_unlogged ON tombstones (log_index) WHERE leaf_index IS NULL;

-- A deleted recording stays indexed (its entries are log leaves); its media is gone.
ALTER TABLE recordings ADD COLUMN deleted_at timestamptz;
