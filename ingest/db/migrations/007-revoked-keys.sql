-- quanlu ingest index, version 7: every gateway key that was revoked, or replaced by a re-enrollment.
-- A gateway certificate's serial derives from gateway id and key (gatewayCertificateSerial), so the
-- Mosquitto CRL names the certificates of all these keys, not only of the keys gateways hold now: a
-- re-enrolled gateway's stolen old certificate stays refused. Rows are only ever added.
CREATE TABLE revoked_keys (
  gateway text NOT NULL,
  fingerprint text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('revoked', 'replaced')),
  revoked_at timestamptz NOT NULL,
  PRIMARY KEY (gateway, fingerprint)
);
CREATE INDEX revoked_keys_fingerprint ON revoked_keys (fingerprint);

-- Keys revoked before this version (a key replaced before it is lost: nothing kept it).
INSERT INTO revoked_keys (gateway, fingerprint, reason, revoked_at)
SELECT id, fingerprint, 'revoked', coalesce(decided_at, requested_at) FROM gateways WHERE status = 'revoked';
