-- 000007_durability: verification idempotency across replicas (DESIGN §8, §10).
-- Never edit after it lands.

-- The Idempotency-Key a verification was requested with, and the fingerprint
-- of that request: two replicas given the same key at once store one
-- verification (the loser reads the winner's answer, or 422 when its request
-- differs). NULL keys never conflict.
ALTER TABLE verifications ADD COLUMN idempotency_key text;
ALTER TABLE verifications ADD COLUMN request_hash text;
ALTER TABLE verifications ADD CONSTRAINT verifications_idempotency_key
  UNIQUE (party, idempotency_key);
ALTER TABLE verifications ADD CONSTRAINT verifications_request_hash_check
  CHECK ((idempotency_key IS NULL) = (request_hash IS NULL));
