-- 000015_verifier_state_size: the verifier's state per subject in at most
-- ~200 B with its index (issue 15, DESIGN §7b). verifier_subjects.state holds
-- core's versioned bit-packed encoding (encodeVerifiedState: leading version
-- byte, the ChainState without what the subject key gives, and the head's log
-- index), so seq and head_index leave the row; state is null for a subject
-- that has an alarm and no verified record. verifier_children.head is the
-- 32-byte record id instead of its hex.
-- Never edit after it lands.
--
-- Existing rows are not converted (the JSON states would have to be re-encoded
-- by core): the verified state is emptied and the cursor goes back to index 0,
-- so the monitor re-verifies the whole log from the start, as it does for a new
-- verifier (DESIGN §7b: it follows the log from its own cursor and never skips
-- an entry). The registry it built from notices goes with it (it is rebuilt as
-- of each entry). Alarms stay, and the subjects they name stay marked with
-- their first alarm, so those subjects keep answering reject while the monitor
-- catches up (a re-found alarm is not raised twice).
TRUNCATE verifier_children, verifier_keys, verifier_parties;
UPDATE verifier_cursor SET next_index = 0, frontier = '{}', checkpoint_size = NULL,
  checkpoint_root = NULL, checkpoint_note = NULL, updated_at = now();

-- Recreated rather than altered: no dropped columns left in its rows.
DROP TABLE verifier_subjects;
CREATE TABLE verifier_subjects (
  subject text PRIMARY KEY,
  state bytea,
  alarm bigint,
  CHECK (state IS NOT NULL OR alarm IS NOT NULL)
);
ALTER TABLE verifier_children ALTER COLUMN head TYPE bytea USING decode(head, 'hex');
ALTER TABLE verifier_children ADD CONSTRAINT verifier_children_head_check CHECK (length(head) = 32);

INSERT INTO verifier_subjects (subject, state, alarm)
SELECT subject, NULL, min(id) FROM verifier_alarms WHERE subject IS NOT NULL GROUP BY subject;
