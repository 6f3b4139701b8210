-- quanlu ingest index, version 2: users, roles, sessions, API tokens and the audit log (issue 5).

-- People who use the console and the API. The password is stored only as a scrypt hash, with the
-- salt and the cost parameters it was made with, so the parameters can be raised for new hashes.
CREATE TABLE users (
  username text PRIMARY KEY,
  display_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'auditor', 'operator')),
  -- Operators see only recordings made in these rooms; empty for every other role.
  rooms text[] NOT NULL DEFAULT '{}',
  scrypt_n integer NOT NULL,
  scrypt_r integer NOT NULL,
  scrypt_p integer NOT NULL,
  password_salt text NOT NULL,
  password_hash text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  changed_at timestamptz NOT NULL
);

-- Console sign-ins. Only the SHA-256 of the cookie's token is kept: a copy of this table signs
-- nobody in. `last_seen_at` drives the idle expiry, `expires_at` is the absolute one.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  username text NOT NULL REFERENCES users (username),
  csrf_token text NOT NULL,
  address text,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_username ON sessions (username);

-- Reasons for access given in one session (or under one API token) for one recording.
CREATE TABLE access_reasons (
  credential text NOT NULL,
  recording uuid NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (credential, recording)
);

-- Bearer tokens of the command line; again only their SHA-256.
CREATE TABLE api_tokens (
  token_hash text PRIMARY KEY,
  username text NOT NULL REFERENCES users (username),
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);
CREATE INDEX api_tokens_username ON api_tokens (username);

-- Who did what to which evidence, when, from where and why. Append-only and hash-chained: each
-- record's hash is SHA-256 over the canonical JSON (RFC 8785) of its fields and its predecessor's
-- hash, so an edited, removed or reordered record breaks every hash after it.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY CHECK (seq >= 0),
  at timestamptz NOT NULL,
  username text,
  role text,
  address text,
  action text NOT NULL,
  recording text,
  track text,
  reason text,
  detail text,
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);
CREATE INDEX audit_log_username ON audit_log (username, seq);
CREATE INDEX audit_log_recording ON audit_log (recording, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at);
