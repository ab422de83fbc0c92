-- 000002_write_path: a leaner write path for the log sequencer (issue 3
-- benchmark: bulk commission and concurrent appends). Never edit after it lands.

-- The envelope was stored twice: keep it once, in the entry's log leaf, as
-- text. The sequencer writes exactly JCS(envelope), the bytes the leaf hash
-- covers (DESIGN §6), so a leaf can be re-hashed from its own row; jsonb would
-- cost a parse per row and reorder the keys. Records are read joined to
-- their leaf (they already were, for the receipt).
ALTER TABLE records DROP COLUMN envelope;
ALTER TABLE log_leaves ALTER COLUMN envelope TYPE text USING envelope::text;

-- Indexes no query uses: records are looked up by id, (subject, seq), leaf
-- index and shipment; leaves by index and entry id.
DROP INDEX records_actor_idx;
DROP INDEX records_type_idx;
DROP INDEX log_leaves_leaf_hash_idx;
