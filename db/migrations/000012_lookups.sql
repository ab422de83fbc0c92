-- 000012_lookups: indexes for the recall fan-out and for pruning webhook rows.
-- Never edit after it lands.

-- The units of a GTIN are the subjects in ['01/<gtin>/21/', '01/<gtin>/210')
-- byte-wise ('0' follows '/'). The unique (subject, seq) index is in the
-- database collation, which a LIKE 'prefix%' cannot use (unless it is C) and
-- whose order need not be byte order; this one answers the range anywhere.
CREATE INDEX records_subject_c_idx ON records (subject COLLATE "C");

-- Retention (the webhook worker's prune): finished deliveries by age; the
-- deliveries of an event (the foreign-key check of a deleted event, and "has
-- it any left"); fanned-out events by age.
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at)
  WHERE status <> 'pending';
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
CREATE INDEX webhook_events_fanned_out_idx ON webhook_events (created_at) WHERE fanned_out;
