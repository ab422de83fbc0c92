-- 000001_init: the Provenant schema (DESIGN §4-§6, §8, §9).
-- Never edit after it lands (STYLE rule 6): add a new numbered file instead.

-- Append-only guard (DESIGN §9): any UPDATE, DELETE or TRUNCATE raises.
-- Statement-level, so even an UPDATE matching no row (or an upsert) is refused.
CREATE FUNCTION provenant_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'append-only table ' || TG_TABLE_NAME;
END
$$;

-- Registry (DESIGN §8a).
CREATE TABLE parties (
  gln text PRIMARY KEY,
  name text NOT NULL,
  roles text[] NOT NULL DEFAULT '{}',
  prefixes text[] NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- kid = first 32 hex of SHA-256(raw public key) (DESIGN §4); gln null = the registry authority.
-- sealed_private_key: AES-256-GCM sealed by the service for custodial keys, never returned (§8).
CREATE TABLE party_keys (
  kid text PRIMARY KEY CHECK (kid ~ '^[0-9a-f]{32}$'),
  gln text REFERENCES parties (gln),
  public_key bytea NOT NULL CHECK (length(public_key) = 32),
  sealed_private_key bytea,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  compromised_at timestamptz,
  revoke_reason text,
  CONSTRAINT party_keys_revoked_check CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX party_keys_gln_idx ON party_keys (gln);

-- Only the SHA-256 of a bearer token is stored (DESIGN §8); gln null = admin/bootstrap.
CREATE TABLE tokens (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  gln text REFERENCES parties (gln),
  scopes text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX tokens_gln_idx ON tokens (gln);

-- The log (DESIGN §6): one leaf per accepted envelope, with its receipt. APPEND-ONLY.
CREATE TABLE log_leaves (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
  entry_kind text NOT NULL CHECK (entry_kind IN ('record', 'notice')),
  entry_id text NOT NULL,
  envelope jsonb NOT NULL,
  integrated_at timestamptz NOT NULL,
  receipt_signature bytea NOT NULL,
  CONSTRAINT log_leaves_entry_id_key UNIQUE (entry_id)
);
CREATE INDEX log_leaves_leaf_hash_idx ON log_leaves (leaf_hash);

-- Records (DESIGN §5): id = SHA-256 of the JCS payload. unique(subject, seq) makes a fork
-- impossible to store (§9). The leaf FK is deferred: record and leaf commit together. APPEND-ONLY.
CREATE TABLE records (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
  subject text NOT NULL,
  seq integer NOT NULL CHECK (seq >= 0),
  prev text CHECK (prev ~ '^[0-9a-f]{64}$'),
  type text NOT NULL,
  actor text NOT NULL REFERENCES parties (gln),
  kid text NOT NULL REFERENCES party_keys (kid),
  time timestamptz NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  payload bytea NOT NULL,
  envelope jsonb NOT NULL,
  leaf_idx bigint NOT NULL REFERENCES log_leaves (idx) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT records_subject_seq_key UNIQUE (subject, seq),
  CONSTRAINT records_leaf_idx_key UNIQUE (leaf_idx),
  CONSTRAINT records_genesis_check CHECK ((seq = 0) = (prev IS NULL))
);
CREATE INDEX records_actor_idx ON records (actor);
CREATE INDEX records_type_idx ON records (type);
-- Receiving reconciles by shipment id (DESIGN §7).
CREATE INDEX records_shipment_idx ON records ((data ->> 'shipment'));

-- Notices (DESIGN §5): party/key registrations and suspensions, recalls, key revocations. APPEND-ONLY.
CREATE TABLE notices (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
  type text NOT NULL,
  actor text NOT NULL,
  kid text NOT NULL,
  time timestamptz NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  payload bytea NOT NULL,
  envelope jsonb NOT NULL,
  leaf_idx bigint NOT NULL REFERENCES log_leaves (idx) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT notices_leaf_idx_key UNIQUE (leaf_idx)
);
CREATE INDEX notices_type_idx ON notices (type);
CREATE INDEX notices_gtin_idx ON notices ((data ->> 'gtin'));
CREATE INDEX notices_kid_idx ON notices ((data ->> 'kid'));

-- Hashes of complete subtrees only (level 0 = leaf hashes), so a root or a proof
-- costs O(log n) reads (DESIGN §6). APPEND-ONLY.
CREATE TABLE merkle_nodes (
  level smallint NOT NULL CHECK (level >= 0 AND level < 64),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);

-- Signed C2SP checkpoints, one per tree size (DESIGN §6). APPEND-ONLY.
CREATE TABLE checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
  note text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Witness tlog-cosignature lines, verified before they are stored (DESIGN §6).
CREATE TABLE cosignatures (
  checkpoint_size bigint NOT NULL REFERENCES checkpoints (size),
  witness_name text NOT NULL,
  key_id bytea NOT NULL,
  line text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (checkpoint_size, witness_name, key_id)
);

-- Mutable cache of the custody state per subject; the records stay the source of truth.
CREATE TABLE chain_heads (
  subject text PRIMARY KEY,
  seq integer NOT NULL CHECK (seq >= 0),
  head text NOT NULL REFERENCES records (id) DEFERRABLE INITIALLY DEFERRED,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency-Key per party (DESIGN §8): same key and body -> stored response.
CREATE TABLE idempotency_keys (
  gln text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer NOT NULL,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (gln, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- The sequencer's counter: exactly one row; lock it to sequence a batch (DESIGN §6).
CREATE TABLE log_state (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  size bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO log_state (id, size) VALUES (true, 0);

CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON records
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();
CREATE TRIGGER notices_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON notices
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();
CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON log_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();
