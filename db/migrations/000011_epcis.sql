-- 000011_epcis: EPCIS 2.0 events and capture jobs (DESIGN §11). Every custody
-- record that maps to an event has an epcis_events row: captured events as
-- they arrived (source 'capture'), and records written through /v1 as the
-- event the §11 table builds from them (source 'v1'), inserted in the
-- transaction that appends the records. Never edit after it lands.

-- `event` is the JSON text of the event exactly as captured (or as built from
-- a /v1 record): returned unchanged, so whoever recomputes the EPCIS 2.0 event
-- hash over it gets `event_id` (when the event carried no eventID of its own).
-- The other columns are the query index (GET /epcis/events):
--   biz_step, disposition: the CBV 2.0 bare term ('commissioning') when the
--     value is a CBV term in any form (bare, https://ref.gs1.org/cbv/..., urn),
--     else the value as captured;
--   biz_location: bizLocation.id as the GS1 path ('414/<gln>' or
--     '414/<gln>/254/<ext>') when it is an SGLN or Digital Link, else as captured;
--   epcs: DESIGN §3 subjects of epcList and childEPCs (MATCH_epc);
--   parent_id: the §3 subject of parentID (MATCH_parentID);
--   subjects: epcs and parent_id together (MATCH_anyEPC, §6a visibility).
-- hash_context: for an event captured inside a document without an eventID of
--   its own, what the hash was computed with besides the event itself
--   ({"@context", "ignoreFields", "vocabulary"} of the document, core
--   EpcisHashContext); null when the event alone gives its hash.
-- n orders the rows (capture order) for paging.
CREATE TABLE epcis_events (
  n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id text NOT NULL,
  party text NOT NULL REFERENCES parties (gln),
  source text NOT NULL CHECK (source IN ('capture', 'v1')),
  capture_id text,
  event_type text NOT NULL,
  action text,
  biz_step text,
  disposition text,
  biz_location text,
  event_time timestamptz NOT NULL,
  record_time timestamptz NOT NULL,
  epcs text[] NOT NULL DEFAULT '{}',
  parent_id text,
  subjects text[] NOT NULL DEFAULT '{}',
  record_ids text[] NOT NULL DEFAULT '{}',
  event text NOT NULL,
  hash_context jsonb,
  CONSTRAINT epcis_events_party_event_id_key UNIQUE (party, event_id)
);
CREATE INDEX epcis_events_event_id_idx ON epcis_events (event_id);
CREATE INDEX epcis_events_epcs_idx ON epcis_events USING gin (epcs);
CREATE INDEX epcis_events_subjects_idx ON epcis_events USING gin (subjects);
CREATE INDEX epcis_events_parent_id_idx ON epcis_events (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX epcis_events_event_time_idx ON epcis_events (event_time);
CREATE INDEX epcis_events_record_time_idx ON epcis_events (record_time);
CREATE INDEX epcis_events_record_ids_idx ON epcis_events USING gin (record_ids);

-- A capture job (POST /epcis/capture): created running, finished once with
-- success and the per-event errors [{eventIndex, eventID?, type, detail, reasons?}].
CREATE TABLE epcis_capture_jobs (
  capture_id text PRIMARY KEY,
  n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  party text NOT NULL REFERENCES parties (gln),
  capture_error_behaviour text NOT NULL
    CHECK (capture_error_behaviour IN ('rollback', 'proceed')),
  event_count integer NOT NULL CHECK (event_count >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  running boolean NOT NULL DEFAULT true,
  success boolean,
  errors jsonb NOT NULL DEFAULT '[]',
  CONSTRAINT epcis_capture_jobs_finished_check CHECK (running = (finished_at IS NULL))
);
CREATE INDEX epcis_capture_jobs_party_idx ON epcis_capture_jobs (party, n);
