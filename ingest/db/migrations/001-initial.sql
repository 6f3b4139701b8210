-- quanlu ingest index, version 1: gateways, recordings, tracks, entries, objects, cases and reference lists.
-- Runs unchanged on PostgreSQL 15+ and PGlite; applied once, in a transaction, by migrations.ts.

-- Enrolled gateways and their keys. Entries name the key by fingerprint.
CREATE TABLE gateways (
  id text PRIMARY KEY,
  fingerprint text NOT NULL UNIQUE,
  public_key text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'revoked')),
  hostname text,
  requested_at timestamptz NOT NULL,
  decided_at timestamptz,
  decided_by text
);
CREATE INDEX gateways_requested_at ON gateways (requested_at, id);

-- Cases as first seen in an open entry's case elements.
CREATE TABLE cases (
  id text PRIMARY KEY,
  first_seen_at timestamptz NOT NULL
);

-- One session in one room for one case; created by the first open entry of any of its tracks.
CREATE TABLE recordings (
  id uuid PRIMARY KEY,
  gateway text NOT NULL,
  case_id text REFERENCES cases (id),
  matter text,
  room text,
  officers jsonb NOT NULL DEFAULT '[]',
  started_by text NOT NULL,
  started_at timestamptz NOT NULL,
  -- set when every track is closed; cleared when a track opens again
  ended_at timestamptz
);
CREATE INDEX recordings_started_at ON recordings (started_at DESC, id);
CREATE INDEX recordings_case ON recordings (case_id, started_at DESC);
CREATE INDEX recordings_room ON recordings (room, started_at DESC);
CREATE INDEX recordings_matter ON recordings (matter, started_at DESC);
CREATE INDEX recordings_gateway ON recordings (gateway, started_at DESC);
CREATE INDEX recordings_officers ON recordings USING gin (officers jsonb_path_ops);

-- One hash chain per camera, microphone or body-worn file, with its running head and totals.
CREATE TABLE tracks (
  recording uuid NOT NULL REFERENCES recordings (id),
  track text NOT NULL,
  gateway text NOT NULL,
  source jsonb NOT NULL,
  continuity text NOT NULL CHECK (continuity IN ('continuous', 'discrete')),
  status text NOT NULL CHECK (status IN ('open', 'closed', 'broken')),
  broken_code text,
  broken_reason text,
  last_seq bigint NOT NULL,
  last_hash text NOT NULL,
  segments integer NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0,
  media_ms bigint NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  merkle_root text,
  PRIMARY KEY (recording, track)
);

-- Every accepted entry, exactly as signed: entry_text is the canonical text that was hashed.
CREATE TABLE entries (
  hash text PRIMARY KEY,
  recording uuid NOT NULL,
  track text NOT NULL,
  seq bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('open', 'segment', 'gap', 'close')),
  gateway text NOT NULL,
  entry jsonb NOT NULL,
  entry_text text NOT NULL,
  sig text NOT NULL,
  object_sha256 text,
  received_at timestamptz NOT NULL DEFAULT now(),
  -- acceptance order, the leaf order of the transparency log
  log_index bigserial NOT NULL UNIQUE,
  UNIQUE (recording, track, seq)
);
CREATE INDEX entries_gaps ON entries (recording, track, seq) WHERE kind = 'gap';

-- Media objects whose content was checked against their name.
CREATE TABLE objects (
  sha256 text PRIMARY KEY,
  size bigint NOT NULL,
  verified_at timestamptz NOT NULL,
  verified_how text NOT NULL CHECK (verified_how IN ('store-checksum', 'rehash'))
);

-- Declared holes in the footage, read from the gap entries.
CREATE VIEW gaps AS
SELECT
  recording,
  track,
  seq,
  (entry ->> 'from')::timestamptz AS "from",
  (entry ->> 'to')::timestamptz AS "to",
  entry ->> 'reason' AS reason,
  entry ->> 'detail' AS detail
FROM entries
WHERE kind = 'gap';

-- Reference lists for the console: officers by credential number (执法证号), matter types (事项).
CREATE TABLE officers (
  number text PRIMARY KEY,
  name text NOT NULL,
  unit text
);
CREATE TABLE matters (
  id text PRIMARY KEY,
  zh text NOT NULL,
  en text NOT NULL
);
