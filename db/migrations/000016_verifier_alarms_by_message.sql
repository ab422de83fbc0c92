-- 000016_verifier_alarms_by_message: an alarm is raised once per finding, and
-- the finding includes what it says (DESIGN §7b). Until now two alarms with the
-- same log index, code and subject were one: every alarm on the log itself (a
-- checkpoint whose signature does not verify, a registry row an insider
-- changed) has no log index and no subject, so after the first of them was
-- acknowledged a second, different one was never raised and /readyz of a
-- standalone verifier stayed 200. The monitor and the audit word the same
-- finding the same way, so each is still raised once.
-- Never edit after it lands.
DROP INDEX verifier_alarms_once_idx;
CREATE UNIQUE INDEX verifier_alarms_once_idx ON verifier_alarms
  (coalesce(log_index, -1), code, coalesce(subject, ''), md5(message));
