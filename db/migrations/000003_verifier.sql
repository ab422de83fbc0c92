-- 000003_verifier: the verifier's own audit (DESIGN §7, §8a; STYLE rule 8: the
-- verifier reads records and the log and writes only these two tables).
-- Never edit after it lands.

-- Every verification (who, when, what, verdict, reasons, receipt). Append-only:
-- an audit trail that could be edited would prove nothing.
CREATE TABLE verifications (
  id text PRIMARY KEY,
  party text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('receiving', 'saleable_return', 'dispense')),
  -- how the subject came in: 'scan', 'subject', 'bundle' (POST /v1/bundles/verify) or 'vrs'
  source text NOT NULL CHECK (source IN ('scan', 'subject', 'bundle', 'vrs')),
  subject text NOT NULL,
  verdict text NOT NULL CHECK (verdict IN ('accept', 'quarantine', 'reject')),
  reasons jsonb NOT NULL DEFAULT '[]',
  -- the whole answer as it was given (timeline, units, product, receipt)
  result jsonb NOT NULL,
  receipt jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- DUPLICATE_SCAN looks up other parties' verifications of a subject since its last handoff.
CREATE INDEX verifications_subject_idx ON verifications (subject, created_at);
CREATE INDEX verifications_party_idx ON verifications (party, created_at);

CREATE TRIGGER verifications_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON verifications
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();

-- Quarantine cases, opened by quarantine and reject verdicts at receiving. `n` orders
-- the list and makes the opaque `?after=` cursor (DESIGN §8).
CREATE TABLE cases (
  id text PRIMARY KEY,
  n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  verification_id text NOT NULL REFERENCES verifications (id),
  party text NOT NULL,
  subject text NOT NULL,
  verdict text NOT NULL CHECK (verdict IN ('quarantine', 'reject')),
  reasons jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  outcome text,
  note text,
  resolved_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  CONSTRAINT cases_resolved_check CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
  CONSTRAINT cases_outcome_check CHECK ((status = 'resolved') = (outcome IS NOT NULL))
);
CREATE INDEX cases_party_idx ON cases (party, status, n);
