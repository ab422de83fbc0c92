-- Capture jobs (DESIGN §11): progress and a heartbeat. `processed_count`
-- counts the events capture has gone through (planned, written or failed);
-- `runner` names the process running the job and `updated_at` is its
-- heartbeat, so a starting replica marks only jobs whose process is gone
-- (heartbeat older than a bound) as interrupted, never a live replica's.
ALTER TABLE epcis_capture_jobs
  ADD COLUMN processed_count integer NOT NULL DEFAULT 0 CHECK (processed_count >= 0),
  ADD COLUMN runner text,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
-- Jobs from before this migration: their heartbeat is their creation.
UPDATE epcis_capture_jobs SET updated_at = created_at;
CREATE INDEX epcis_capture_jobs_running_idx ON epcis_capture_jobs (updated_at) WHERE running;
