-- 000010_verifier_monitor: the verifier's own verified state (DESIGN §7b). The
-- verifier follows the log from its cursor, verifies every entry once, and keeps
-- here what it verified; it never trusts the issuer's chain_heads.
-- Never edit after it lands.

-- One row: entries [0, next_index) are verified. `frontier` is the compact range
-- (RFC 9162 right border, one hash per set bit of next_index, highest level first)
-- of the leaf hashes the monitor computed itself, so each checkpoint's root is
-- recomputed, never read. checkpoint_*: the newest checkpoint whose signature and
-- root it verified (consistency with the previous one follows: both roots are
-- computed over the same verified leaves).
CREATE TABLE verifier_cursor (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  next_index bigint NOT NULL DEFAULT 0 CHECK (next_index >= 0),
  frontier bytea[] NOT NULL DEFAULT '{}',
  checkpoint_size bigint,
  checkpoint_root bytea,
  checkpoint_note text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO verifier_cursor (id) VALUES (true);

-- Verified state per subject: the core ChainState after its last verified record,
-- compacted (no subject, no children: those are in verifier_children). `alarm`:
-- the first alarm on this subject; its state then stops at the last good record.
CREATE TABLE verifier_subjects (
  subject text PRIMARY KEY,
  seq integer NOT NULL CHECK (seq >= 0),
  head_index bigint NOT NULL,
  state jsonb NOT NULL,
  alarm bigint
);

-- A logistic unit's units at its pack (DESIGN §5): a pallet's units in one query.
CREATE TABLE verifier_children (
  container text NOT NULL,
  child text NOT NULL,
  head text NOT NULL,
  PRIMARY KEY (container, child)
);

-- The registry as of the cursor, built only from notices the monitor verified.
CREATE TABLE verifier_keys (
  kid text PRIMARY KEY,
  gln text,
  public_key bytea NOT NULL,
  registered_index bigint NOT NULL,
  -- [{index, compromisedAt}] and [{from, to|null}]
  revocations jsonb NOT NULL DEFAULT '[]',
  suspensions jsonb NOT NULL DEFAULT '[]'
);
CREATE TABLE verifier_parties (
  gln text PRIMARY KEY,
  roles text[] NOT NULL,
  prefixes text[] NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'suspended'))
);

-- What failed verification (DESIGN §7b): by the monitor or by an audit. A
-- standalone verifier is not ready while one is unacknowledged.
CREATE TABLE verifier_alarms (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  log_index bigint,
  subject text,
  code text NOT NULL,
  message text NOT NULL,
  found_by text NOT NULL CHECK (found_by IN ('monitor', 'audit')),
  raised_at timestamptz NOT NULL DEFAULT now(),
  acked_at timestamptz,
  acked_by text
);
CREATE INDEX verifier_alarms_subject_idx ON verifier_alarms (subject);
CREATE UNIQUE INDEX verifier_alarms_once_idx ON verifier_alarms (coalesce(log_index, -1), code, coalesce(subject, ''));
