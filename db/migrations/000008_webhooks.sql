-- 000008_webhooks: events out (DESIGN §12). An event row commits in the same
-- transaction as its fact (the outbox); a worker on any replica fans it out
-- to the matching subscriptions and delivers each at least once, claiming due
-- rows with FOR UPDATE SKIP LOCKED so replicas never send the same attempt twice.
-- Never edit after it lands.

-- A party's endpoint (party NULL: the operator's, which receives every event).
-- The whsec_ secret is sealed under the master key (AES-256-GCM, like custodial
-- keys); after a rotation the previous one still signs until previous_until.
CREATE TABLE webhook_subscriptions (
  id text PRIMARY KEY,
  n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  party text,
  url text NOT NULL,
  events text[] NOT NULL,
  secret_sealed bytea NOT NULL,
  previous_secret_sealed bytea,
  previous_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX webhook_subscriptions_party_idx ON webhook_subscriptions (party, n)
  WHERE deleted_at IS NULL;

-- The outbox. `payload` is the exact JSON text that is signed and sent, so every
-- attempt of a message carries the same bytes and the same webhook-id (`id`).
-- `parties`: the GLNs the event is about (DESIGN §6a); fanned_out once the
-- worker has created its deliveries.
CREATE TABLE webhook_events (
  id text PRIMARY KEY,
  n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  type text NOT NULL,
  parties text[] NOT NULL DEFAULT '{}',
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  fanned_out boolean NOT NULL DEFAULT false
);
CREATE INDEX webhook_events_pending_idx ON webhook_events (n) WHERE NOT fanned_out;

-- One event for one subscription. A claim pushes next_attempt_at ahead by a
-- lease, so an attempt cut short by a crash is retried when the lease ends.
CREATE TABLE webhook_deliveries (
  n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id text NOT NULL REFERENCES webhook_subscriptions (id),
  event_id text NOT NULL REFERENCES webhook_events (id),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  retry_until timestamptz NOT NULL,
  last_status integer,
  last_error text,
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, n);

-- Every finished attempt, once (the claim numbers it).
CREATE TABLE webhook_attempts (
  delivery_n bigint NOT NULL REFERENCES webhook_deliveries (n),
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  status_code integer,
  error text,
  duration_ms integer NOT NULL,
  PRIMARY KEY (delivery_n, attempt)
);
