-- 000013_verification_idempotency: verification Idempotency-Keys are kept 24
-- hours, then the key is free again and its row is pruned (DESIGN §8).
-- Never edit after it lands.

-- 000007 made (party, idempotency_key) unique on verifications, which are
-- append-only: a key could never expire nor be pruned. The key now lives in
-- its own table, one row per (party, key), which is the arbiter across
-- replicas (two given the same key at once store one verification) and which
-- an expired key's new verification takes over. verifications keep the key
-- and request hash they were asked with, for audit only.
CREATE TABLE verification_idempotency (
  party text NOT NULL,
  key text NOT NULL,
  -- fingerprint of the request (server-kit requestHashOf): another request under a fresh key is 422
  request_hash text NOT NULL,
  verification_id text NOT NULL REFERENCES verifications (id),
  -- the database's clock, as idempotency_keys: expiry and pruning agree across replicas
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (party, key)
);
CREATE INDEX verification_idempotency_created_at_idx ON verification_idempotency (created_at);

-- Keys still within their 24 hours keep holding their verification.
INSERT INTO verification_idempotency (party, key, request_hash, verification_id, created_at)
SELECT party, idempotency_key, request_hash, id, created_at FROM verifications
WHERE idempotency_key IS NOT NULL AND created_at > now() - interval '24 hours';

ALTER TABLE verifications DROP CONSTRAINT verifications_idempotency_key;
