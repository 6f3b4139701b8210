-- quanlu ingest index, version 3: the transparency log, signed tree heads and fixity sweeps (issue 8).

-- The log's leaf order [EVIDENCE §20.1]: an accepted entry gets the next leaf index when the sequencer
-- takes it, in entries.log_index order. NULL means accepted but not yet in the log.
ALTER TABLE entries ADD COLUMN leaf_index bigint UNIQUE;
CREATE INDEX entries_unlogged ON entries (log_index) WHERE leaf_index IS NULL;

-- Hashes of complete subtrees: (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
-- A cache of the leaves above: it can be dropped and rebuilt from entries.leaf_index at any time.
CREATE TABLE log_nodes (
  level smallint NOT NULL CHECK (level >= 0 AND level < 64),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  PRIMARY KEY (level, idx)
);

-- Every tree head the ingest signed, as signed: head_text is the canonical text whose SHA-256 is hash.
CREATE TABLE log_tree_heads (
  id bigserial PRIMARY KEY,
  tree_size bigint NOT NULL CHECK (tree_size >= 0),
  root text NOT NULL,
  signed_at timestamptz NOT NULL,
  key text NOT NULL,
  head_text text NOT NULL,
  hash text NOT NULL,
  sig text NOT NULL
);
CREATE INDEX log_tree_heads_size ON log_tree_heads (tree_size, id);

-- Fixity sweeps: where the running pass is, and when the last full pass ended.
CREATE TABLE fixity_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  pass_started_at timestamptz,
  cursor text,
  pass_objects bigint NOT NULL DEFAULT 0,
  pass_bytes bigint NOT NULL DEFAULT 0,
  last_full_pass_at timestamptz,
  last_pass_objects bigint,
  last_pass_bytes bigint,
  last_pass_mismatches bigint
);

-- Every mismatch a sweep found: the object, what it should hash to, what it hashed to.
CREATE TABLE fixity_failures (
  id bigserial PRIMARY KEY,
  sha256 text NOT NULL,
  detected_at timestamptz NOT NULL,
  actual text,
  actual_size bigint,
  expected_size bigint NOT NULL,
  reason text NOT NULL
);
CREATE INDEX fixity_failures_object ON fixity_failures (sha256);
