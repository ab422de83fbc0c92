-- db/schema.sql: GENERATED from db/migrations, do not edit.
-- Regenerate: node --import tsx packages/store/scripts/dump-schema.ts
-- A test (packages/store/src/schema.test.ts) keeps it in sync with the migrations.

CREATE OR REPLACE FUNCTION public.provenant_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'append-only table ' || TG_TABLE_NAME;
END
$function$;

CREATE OR REPLACE FUNCTION public.provenant_case_number(at timestamp with time zone)
 RETURNS text
 LANGUAGE sql
AS $function$
  SELECT 'Q-' || to_char(at AT TIME ZONE 'UTC', 'YY') || '-'
    || CASE WHEN s.n < 1000000 THEN lpad(s.n::text, 6, '0') ELSE s.n::text END
  FROM (SELECT nextval('case_number_seq') AS n) s
$function$;

CREATE TABLE cases (
  id text NOT NULL,
  n bigint NOT NULL,
  verification_id text NOT NULL,
  party text NOT NULL,
  subject text NOT NULL,
  verdict text NOT NULL,
  reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
  status text NOT NULL DEFAULT 'open'::text,
  outcome text,
  note text,
  resolved_by text,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  resolved_at timestamp with time zone,
  case_number text NOT NULL
);

ALTER TABLE cases ADD CONSTRAINT cases_case_number_check CHECK ((char_length(case_number) <= 12));
ALTER TABLE cases ADD CONSTRAINT cases_outcome_check CHECK (((status = 'resolved'::text) = (outcome IS NOT NULL)));
ALTER TABLE cases ADD CONSTRAINT cases_resolved_check CHECK (((status = 'resolved'::text) = (resolved_at IS NOT NULL)));
ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK ((status = ANY (ARRAY['open'::text, 'resolved'::text])));
ALTER TABLE cases ADD CONSTRAINT cases_verdict_check CHECK ((verdict = ANY (ARRAY['quarantine'::text, 'reject'::text])));
ALTER TABLE cases ADD CONSTRAINT cases_verification_id_fkey FOREIGN KEY (verification_id) REFERENCES verifications(id);
ALTER TABLE cases ADD CONSTRAINT cases_pkey PRIMARY KEY (id);
ALTER TABLE cases ADD CONSTRAINT cases_case_number_key UNIQUE (case_number);
ALTER TABLE cases ADD CONSTRAINT cases_n_key UNIQUE (n);
CREATE INDEX cases_party_idx ON public.cases USING btree (party, status, n);

CREATE TABLE chain_heads (
  subject text NOT NULL,
  seq integer NOT NULL,
  head text NOT NULL,
  state jsonb NOT NULL,
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE chain_heads ADD CONSTRAINT chain_heads_seq_check CHECK ((seq >= 0));
ALTER TABLE chain_heads ADD CONSTRAINT chain_heads_head_fkey FOREIGN KEY (head) REFERENCES records(id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE chain_heads ADD CONSTRAINT chain_heads_pkey PRIMARY KEY (subject);

CREATE TABLE checkpoints (
  size bigint NOT NULL,
  root_hash bytea NOT NULL,
  note text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_root_hash_check CHECK ((length(root_hash) = 32));
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_size_check CHECK ((size >= 0));
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_pkey PRIMARY KEY (size);
CREATE TRIGGER checkpoints_append_only BEFORE DELETE OR UPDATE OR TRUNCATE ON public.checkpoints FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();

CREATE TABLE cosignatures (
  checkpoint_size bigint NOT NULL,
  witness_name text NOT NULL,
  key_id bytea NOT NULL,
  line text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE cosignatures ADD CONSTRAINT cosignatures_checkpoint_size_fkey FOREIGN KEY (checkpoint_size) REFERENCES checkpoints(size);
ALTER TABLE cosignatures ADD CONSTRAINT cosignatures_pkey PRIMARY KEY (checkpoint_size, witness_name, key_id);

CREATE TABLE epcis_capture_jobs (
  capture_id text NOT NULL,
  n bigint NOT NULL,
  party text NOT NULL,
  capture_error_behaviour text NOT NULL,
  event_count integer NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  finished_at timestamp with time zone,
  running boolean NOT NULL DEFAULT true,
  success boolean,
  errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  processed_count integer NOT NULL DEFAULT 0,
  runner text,
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE epcis_capture_jobs ADD CONSTRAINT epcis_capture_jobs_capture_error_behaviour_check CHECK ((capture_error_behaviour = ANY (ARRAY['rollback'::text, 'proceed'::text])));
ALTER TABLE epcis_capture_jobs ADD CONSTRAINT epcis_capture_jobs_event_count_check CHECK ((event_count >= 0));
ALTER TABLE epcis_capture_jobs ADD CONSTRAINT epcis_capture_jobs_finished_check CHECK ((running = (finished_at IS NULL)));
ALTER TABLE epcis_capture_jobs ADD CONSTRAINT epcis_capture_jobs_processed_count_check CHECK ((processed_count >= 0));
ALTER TABLE epcis_capture_jobs ADD CONSTRAINT epcis_capture_jobs_party_fkey FOREIGN KEY (party) REFERENCES parties(gln);
ALTER TABLE epcis_capture_jobs ADD CONSTRAINT epcis_capture_jobs_pkey PRIMARY KEY (capture_id);
ALTER TABLE epcis_capture_jobs ADD CONSTRAINT epcis_capture_jobs_n_key UNIQUE (n);
CREATE INDEX epcis_capture_jobs_party_idx ON public.epcis_capture_jobs USING btree (party, n);
CREATE INDEX epcis_capture_jobs_running_idx ON public.epcis_capture_jobs USING btree (updated_at) WHERE running;

CREATE TABLE epcis_events (
  n bigint NOT NULL,
  event_id text NOT NULL,
  party text NOT NULL,
  source text NOT NULL,
  capture_id text,
  event_type text NOT NULL,
  action text,
  biz_step text,
  disposition text,
  biz_location text,
  event_time timestamp with time zone NOT NULL,
  record_time timestamp with time zone NOT NULL,
  epcs text[] NOT NULL DEFAULT '{}'::text[],
  parent_id text,
  subjects text[] NOT NULL DEFAULT '{}'::text[],
  record_ids text[] NOT NULL DEFAULT '{}'::text[],
  event text NOT NULL,
  hash_context jsonb
);

ALTER TABLE epcis_events ADD CONSTRAINT epcis_events_source_check CHECK ((source = ANY (ARRAY['capture'::text, 'v1'::text])));
ALTER TABLE epcis_events ADD CONSTRAINT epcis_events_party_fkey FOREIGN KEY (party) REFERENCES parties(gln);
ALTER TABLE epcis_events ADD CONSTRAINT epcis_events_pkey PRIMARY KEY (n);
ALTER TABLE epcis_events ADD CONSTRAINT epcis_events_party_event_id_key UNIQUE (party, event_id);
CREATE INDEX epcis_events_epcs_idx ON public.epcis_events USING gin (epcs);
CREATE INDEX epcis_events_event_id_idx ON public.epcis_events USING btree (event_id);
CREATE INDEX epcis_events_event_time_idx ON public.epcis_events USING btree (event_time);
CREATE INDEX epcis_events_parent_id_idx ON public.epcis_events USING btree (parent_id) WHERE (parent_id IS NOT NULL);
CREATE INDEX epcis_events_record_ids_idx ON public.epcis_events USING gin (record_ids);
CREATE INDEX epcis_events_record_time_idx ON public.epcis_events USING btree (record_time);
CREATE INDEX epcis_events_subjects_idx ON public.epcis_events USING gin (subjects);

CREATE TABLE idempotency_keys (
  gln text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer NOT NULL,
  response jsonb,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (gln, key);
CREATE INDEX idempotency_keys_created_at_idx ON public.idempotency_keys USING btree (created_at);

CREATE TABLE log_leaves (
  idx bigint NOT NULL,
  leaf_hash bytea NOT NULL,
  entry_kind text NOT NULL,
  entry_id text NOT NULL,
  envelope text NOT NULL,
  integrated_at timestamp with time zone NOT NULL,
  receipt_signature bytea NOT NULL
);

ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_entry_kind_check CHECK ((entry_kind = ANY (ARRAY['record'::text, 'notice'::text])));
ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_idx_check CHECK ((idx >= 0));
ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_leaf_hash_check CHECK ((length(leaf_hash) = 32));
ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_pkey PRIMARY KEY (idx);
ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_entry_id_key UNIQUE (entry_id);
CREATE TRIGGER log_leaves_append_only BEFORE DELETE OR UPDATE OR TRUNCATE ON public.log_leaves FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();

CREATE TABLE log_state (
  id boolean NOT NULL DEFAULT true,
  size bigint NOT NULL
);

ALTER TABLE log_state ADD CONSTRAINT log_state_id_check CHECK (id);
ALTER TABLE log_state ADD CONSTRAINT log_state_size_check CHECK ((size >= 0));
ALTER TABLE log_state ADD CONSTRAINT log_state_pkey PRIMARY KEY (id);

CREATE TABLE merkle_nodes (
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL
);

ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_hash_check CHECK ((length(hash) = 32));
ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_idx_check CHECK ((idx >= 0));
ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_level_check CHECK (((level >= 0) AND (level < 64)));
ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_pkey PRIMARY KEY (level, idx);
CREATE TRIGGER merkle_nodes_append_only BEFORE DELETE OR UPDATE OR TRUNCATE ON public.merkle_nodes FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();

CREATE TABLE migrations (
  id integer NOT NULL,
  name text NOT NULL,
  applied_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE migrations ADD CONSTRAINT migrations_pkey PRIMARY KEY (id);

CREATE TABLE notices (
  id text NOT NULL,
  type text NOT NULL,
  actor text NOT NULL,
  kid text NOT NULL,
  time timestamp with time zone NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  payload bytea NOT NULL,
  envelope jsonb NOT NULL,
  leaf_idx bigint NOT NULL
);

ALTER TABLE notices ADD CONSTRAINT notices_id_check CHECK ((id ~ '^[0-9a-f]{64}$'::text));
ALTER TABLE notices ADD CONSTRAINT notices_leaf_idx_fkey FOREIGN KEY (leaf_idx) REFERENCES log_leaves(idx) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE notices ADD CONSTRAINT notices_pkey PRIMARY KEY (id);
ALTER TABLE notices ADD CONSTRAINT notices_leaf_idx_key UNIQUE (leaf_idx);
CREATE INDEX notices_gtin_idx ON public.notices USING btree (((data ->> 'gtin'::text)));
CREATE INDEX notices_kid_idx ON public.notices USING btree (((data ->> 'kid'::text)));
CREATE INDEX notices_type_idx ON public.notices USING btree (type);
CREATE TRIGGER notices_append_only BEFORE DELETE OR UPDATE OR TRUNCATE ON public.notices FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();

CREATE TABLE parties (
  gln text NOT NULL,
  name text NOT NULL,
  roles text[] NOT NULL DEFAULT '{}'::text[],
  prefixes text[] NOT NULL DEFAULT '{}'::text[],
  status text NOT NULL DEFAULT 'active'::text,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE parties ADD CONSTRAINT parties_status_check CHECK ((status = ANY (ARRAY['active'::text, 'suspended'::text])));
ALTER TABLE parties ADD CONSTRAINT parties_pkey PRIMARY KEY (gln);

CREATE TABLE party_keys (
  kid text NOT NULL,
  gln text,
  public_key bytea NOT NULL,
  sealed_private_key bytea,
  status text NOT NULL DEFAULT 'active'::text,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  revoked_at timestamp with time zone,
  compromised_at timestamp with time zone,
  revoke_reason text
);

ALTER TABLE party_keys ADD CONSTRAINT party_keys_kid_check CHECK ((kid ~ '^[0-9a-f]{32}$'::text));
ALTER TABLE party_keys ADD CONSTRAINT party_keys_public_key_check CHECK ((length(public_key) = 32));
ALTER TABLE party_keys ADD CONSTRAINT party_keys_revoked_check CHECK (((status = 'revoked'::text) = (revoked_at IS NOT NULL)));
ALTER TABLE party_keys ADD CONSTRAINT party_keys_status_check CHECK ((status = ANY (ARRAY['active'::text, 'revoked'::text])));
ALTER TABLE party_keys ADD CONSTRAINT party_keys_gln_fkey FOREIGN KEY (gln) REFERENCES parties(gln);
ALTER TABLE party_keys ADD CONSTRAINT party_keys_pkey PRIMARY KEY (kid);
CREATE INDEX party_keys_gln_idx ON public.party_keys USING btree (gln);

CREATE TABLE rate_limits (
  key text NOT NULL,
  hits integer NOT NULL,
  reset_at timestamp with time zone NOT NULL
);

ALTER TABLE rate_limits ADD CONSTRAINT rate_limits_hits_check CHECK ((hits >= 0));
ALTER TABLE rate_limits ADD CONSTRAINT rate_limits_key_check CHECK ((length(key) <= 200));
ALTER TABLE rate_limits ADD CONSTRAINT rate_limits_pkey PRIMARY KEY (key);
CREATE INDEX rate_limits_reset_idx ON public.rate_limits USING btree (reset_at);

CREATE TABLE records (
  id text NOT NULL,
  subject text NOT NULL,
  seq integer NOT NULL,
  prev text,
  type text NOT NULL,
  actor text NOT NULL,
  kid text NOT NULL,
  time timestamp with time zone NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  payload bytea NOT NULL,
  leaf_idx bigint NOT NULL
);

ALTER TABLE records ADD CONSTRAINT records_genesis_check CHECK (((seq = 0) = (prev IS NULL)));
ALTER TABLE records ADD CONSTRAINT records_id_check CHECK ((id ~ '^[0-9a-f]{64}$'::text));
ALTER TABLE records ADD CONSTRAINT records_prev_check CHECK ((prev ~ '^[0-9a-f]{64}$'::text));
ALTER TABLE records ADD CONSTRAINT records_seq_check CHECK ((seq >= 0));
ALTER TABLE records ADD CONSTRAINT records_actor_fkey FOREIGN KEY (actor) REFERENCES parties(gln);
ALTER TABLE records ADD CONSTRAINT records_kid_fkey FOREIGN KEY (kid) REFERENCES party_keys(kid);
ALTER TABLE records ADD CONSTRAINT records_leaf_idx_fkey FOREIGN KEY (leaf_idx) REFERENCES log_leaves(idx) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE records ADD CONSTRAINT records_pkey PRIMARY KEY (id);
ALTER TABLE records ADD CONSTRAINT records_leaf_idx_key UNIQUE (leaf_idx);
ALTER TABLE records ADD CONSTRAINT records_subject_seq_key UNIQUE (subject, seq);
CREATE INDEX records_shipment_idx ON public.records USING btree (((data ->> 'shipment'::text)));
CREATE INDEX records_subject_c_idx ON public.records USING btree (subject COLLATE "C");
CREATE TRIGGER records_append_only BEFORE DELETE OR UPDATE OR TRUNCATE ON public.records FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();

CREATE TABLE tokens (
  token_hash bytea NOT NULL,
  gln text,
  scopes text[] NOT NULL DEFAULT '{}'::text[],
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  revoked_at timestamp with time zone,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  last_used_at timestamp with time zone
);

ALTER TABLE tokens ADD CONSTRAINT tokens_token_hash_check CHECK ((length(token_hash) = 32));
ALTER TABLE tokens ADD CONSTRAINT tokens_gln_fkey FOREIGN KEY (gln) REFERENCES parties(gln);
ALTER TABLE tokens ADD CONSTRAINT tokens_pkey PRIMARY KEY (token_hash);
ALTER TABLE tokens ADD CONSTRAINT tokens_id_key UNIQUE (id);
CREATE INDEX tokens_gln_idx ON public.tokens USING btree (gln);

CREATE TABLE verification_idempotency (
  party text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  verification_id text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE verification_idempotency ADD CONSTRAINT verification_idempotency_verification_id_fkey FOREIGN KEY (verification_id) REFERENCES verifications(id);
ALTER TABLE verification_idempotency ADD CONSTRAINT verification_idempotency_pkey PRIMARY KEY (party, key);
CREATE INDEX verification_idempotency_created_at_idx ON public.verification_idempotency USING btree (created_at);

CREATE TABLE verifications (
  id text NOT NULL,
  party text NOT NULL,
  purpose text NOT NULL,
  source text NOT NULL,
  subject text NOT NULL,
  verdict text NOT NULL,
  reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
  result jsonb NOT NULL,
  receipt jsonb NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  idempotency_key text,
  request_hash text
);

ALTER TABLE verifications ADD CONSTRAINT verifications_purpose_check CHECK ((purpose = ANY (ARRAY['receiving'::text, 'saleable_return'::text, 'dispense'::text])));
ALTER TABLE verifications ADD CONSTRAINT verifications_request_hash_check CHECK (((idempotency_key IS NULL) = (request_hash IS NULL)));
ALTER TABLE verifications ADD CONSTRAINT verifications_source_check CHECK ((source = ANY (ARRAY['scan'::text, 'subject'::text, 'bundle'::text, 'vrs'::text])));
ALTER TABLE verifications ADD CONSTRAINT verifications_verdict_check CHECK ((verdict = ANY (ARRAY['accept'::text, 'quarantine'::text, 'reject'::text])));
ALTER TABLE verifications ADD CONSTRAINT verifications_pkey PRIMARY KEY (id);
CREATE INDEX verifications_party_idx ON public.verifications USING btree (party, created_at);
CREATE INDEX verifications_subject_idx ON public.verifications USING btree (subject, created_at);
CREATE TRIGGER verifications_append_only BEFORE DELETE OR UPDATE OR TRUNCATE ON public.verifications FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();

CREATE TABLE verifier_alarms (
  id bigint NOT NULL,
  log_index bigint,
  subject text,
  code text NOT NULL,
  message text NOT NULL,
  found_by text NOT NULL,
  raised_at timestamp with time zone NOT NULL DEFAULT now(),
  acked_at timestamp with time zone,
  acked_by text
);

ALTER TABLE verifier_alarms ADD CONSTRAINT verifier_alarms_found_by_check CHECK ((found_by = ANY (ARRAY['monitor'::text, 'audit'::text])));
ALTER TABLE verifier_alarms ADD CONSTRAINT verifier_alarms_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX verifier_alarms_once_idx ON public.verifier_alarms USING btree (COALESCE(log_index, ('-1'::integer)::bigint), code, COALESCE(subject, ''::text), md5(message));
CREATE INDEX verifier_alarms_subject_idx ON public.verifier_alarms USING btree (subject);

CREATE TABLE verifier_children (
  container text NOT NULL,
  child text NOT NULL,
  head bytea NOT NULL
);

ALTER TABLE verifier_children ADD CONSTRAINT verifier_children_head_check CHECK ((length(head) = 32));
ALTER TABLE verifier_children ADD CONSTRAINT verifier_children_pkey PRIMARY KEY (container, child);

CREATE TABLE verifier_cursor (
  id boolean NOT NULL DEFAULT true,
  next_index bigint NOT NULL DEFAULT 0,
  frontier bytea[] NOT NULL DEFAULT '{}'::bytea[],
  checkpoint_size bigint,
  checkpoint_root bytea,
  checkpoint_note text,
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE verifier_cursor ADD CONSTRAINT verifier_cursor_id_check CHECK (id);
ALTER TABLE verifier_cursor ADD CONSTRAINT verifier_cursor_next_index_check CHECK ((next_index >= 0));
ALTER TABLE verifier_cursor ADD CONSTRAINT verifier_cursor_pkey PRIMARY KEY (id);

CREATE TABLE verifier_keys (
  kid text NOT NULL,
  gln text,
  public_key bytea NOT NULL,
  registered_index bigint NOT NULL,
  revocations jsonb NOT NULL DEFAULT '[]'::jsonb,
  suspensions jsonb NOT NULL DEFAULT '[]'::jsonb
);

ALTER TABLE verifier_keys ADD CONSTRAINT verifier_keys_pkey PRIMARY KEY (kid);

CREATE TABLE verifier_notices (
  log_index bigint NOT NULL,
  type text NOT NULL,
  gln text,
  kid text,
  gtin text
);

ALTER TABLE verifier_notices ADD CONSTRAINT verifier_notices_log_index_check CHECK ((log_index >= 0));
ALTER TABLE verifier_notices ADD CONSTRAINT verifier_notices_pkey PRIMARY KEY (log_index);
CREATE INDEX verifier_notices_gln_idx ON public.verifier_notices USING btree (gln) WHERE (gln IS NOT NULL);
CREATE INDEX verifier_notices_gtin_idx ON public.verifier_notices USING btree (gtin) WHERE (gtin IS NOT NULL);
CREATE INDEX verifier_notices_kid_idx ON public.verifier_notices USING btree (kid) WHERE (kid IS NOT NULL);

CREATE TABLE verifier_parties (
  gln text NOT NULL,
  roles text[] NOT NULL,
  prefixes text[] NOT NULL,
  status text NOT NULL
);

ALTER TABLE verifier_parties ADD CONSTRAINT verifier_parties_status_check CHECK ((status = ANY (ARRAY['active'::text, 'suspended'::text])));
ALTER TABLE verifier_parties ADD CONSTRAINT verifier_parties_pkey PRIMARY KEY (gln);

CREATE TABLE verifier_subjects (
  subject text NOT NULL,
  state bytea,
  alarm bigint
);

ALTER TABLE verifier_subjects ADD CONSTRAINT verifier_subjects_check CHECK (((state IS NOT NULL) OR (alarm IS NOT NULL)));
ALTER TABLE verifier_subjects ADD CONSTRAINT verifier_subjects_pkey PRIMARY KEY (subject);

CREATE TABLE webhook_attempts (
  delivery_n bigint NOT NULL,
  attempt integer NOT NULL,
  attempted_at timestamp with time zone NOT NULL,
  status_code integer,
  error text,
  duration_ms integer NOT NULL
);

ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_delivery_n_fkey FOREIGN KEY (delivery_n) REFERENCES webhook_deliveries(n);
ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_n, attempt);

CREATE TABLE webhook_deliveries (
  n bigint NOT NULL,
  subscription_id text NOT NULL,
  event_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending'::text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamp with time zone NOT NULL DEFAULT now(),
  retry_until timestamp with time zone NOT NULL,
  last_status integer,
  last_error text,
  last_attempt_at timestamp with time zone,
  delivered_at timestamp with time zone,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text])));
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES webhook_events(id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES webhook_subscriptions(id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (n);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_subscription_id_event_id_key UNIQUE (subscription_id, event_id);
CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);
CREATE INDEX webhook_deliveries_event_idx ON public.webhook_deliveries USING btree (event_id);
CREATE INDEX webhook_deliveries_finished_idx ON public.webhook_deliveries USING btree (created_at) WHERE (status <> 'pending'::text);
CREATE INDEX webhook_deliveries_subscription_idx ON public.webhook_deliveries USING btree (subscription_id, n);

CREATE TABLE webhook_events (
  id text NOT NULL,
  n bigint NOT NULL,
  type text NOT NULL,
  parties text[] NOT NULL DEFAULT '{}'::text[],
  payload text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  fanned_out boolean NOT NULL DEFAULT false
);

ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_pkey PRIMARY KEY (id);
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_n_key UNIQUE (n);
CREATE INDEX webhook_events_fanned_out_idx ON public.webhook_events USING btree (created_at) WHERE fanned_out;
CREATE INDEX webhook_events_pending_idx ON public.webhook_events USING btree (n) WHERE (NOT fanned_out);

CREATE TABLE webhook_subscriptions (
  id text NOT NULL,
  n bigint NOT NULL,
  party text,
  url text NOT NULL,
  events text[] NOT NULL,
  secret_sealed bytea NOT NULL,
  previous_secret_sealed bytea,
  previous_until timestamp with time zone,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  deleted_at timestamp with time zone
);

ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_pkey PRIMARY KEY (id);
ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_n_key UNIQUE (n);
CREATE INDEX webhook_subscriptions_party_idx ON public.webhook_subscriptions USING btree (party, n) WHERE (deleted_at IS NULL);

CREATE TABLE witnesses (
  name text NOT NULL,
  public_key bytea NOT NULL,
  key_id bytea NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);

ALTER TABLE witnesses ADD CONSTRAINT witnesses_key_id_check CHECK ((length(key_id) = 4));
ALTER TABLE witnesses ADD CONSTRAINT witnesses_public_key_check CHECK ((length(public_key) = 32));
ALTER TABLE witnesses ADD CONSTRAINT witnesses_pkey PRIMARY KEY (name);
