-- 000006_access: shared rate-limit counters (DESIGN §8 abuse). One row per
-- client key (a token's hash or an address) and window; every replica on the
-- database counts into the same row. UNLOGGED: counters are not worth a WAL
-- flush per request, and after a crash they start again from zero.
-- Never edit after it lands.
CREATE UNLOGGED TABLE rate_limits (
  key text PRIMARY KEY CHECK (length(key) <= 200),
  hits integer NOT NULL CHECK (hits >= 0),
  reset_at timestamptz NOT NULL
);
CREATE INDEX rate_limits_reset_idx ON rate_limits (reset_at);
