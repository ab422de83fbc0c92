-- 000017_verifier_notices: the registry notices the monitor verified (DESIGN
-- §7b), by log index, with the GLN, key id or GTIN they are about. A
-- verification asked the notices table whether a unit's GTIN was recalled or
-- an actor ever suspended, and the engine's fallback built its bundle from it:
-- a database insider who deleted one row (the log leaf kept) turned a recalled
-- or suspended party's goods into accept. Now the verifier asks its own table,
-- and a log bundle that leaves out a notice listed here is a reject.
-- Never edit after it lands.
CREATE TABLE verifier_notices (
  log_index bigint PRIMARY KEY CHECK (log_index >= 0),
  type text NOT NULL,
  gln text,
  kid text,
  gtin text
);
CREATE INDEX verifier_notices_gln_idx ON verifier_notices (gln) WHERE gln IS NOT NULL;
CREATE INDEX verifier_notices_kid_idx ON verifier_notices (kid) WHERE kid IS NOT NULL;
CREATE INDEX verifier_notices_gtin_idx ON verifier_notices (gtin) WHERE gtin IS NOT NULL;

-- The notices below the cursor were verified before this table existed: they
-- are listed as stored now (the audit compares them with the log's entries).
INSERT INTO verifier_notices (log_index, type, gln, kid, gtin)
SELECT n.leaf_idx, n.type, n.data ->> 'gln', n.data ->> 'kid', n.data ->> 'gtin'
FROM notices n, verifier_cursor c
WHERE c.id AND n.leaf_idx < c.next_index;
