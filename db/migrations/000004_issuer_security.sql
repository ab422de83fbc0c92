-- 000004_issuer_security: issue 10 (DESIGN §5 keys and tokens, §6 witnesses).
-- Never edit after it lands.

-- Tokens get a public id (listed and revoked by it; never the secret or its
-- hash) and the time they were last used (DESIGN §5, §8a).
ALTER TABLE tokens ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE tokens ADD CONSTRAINT tokens_id_key UNIQUE (id);
ALTER TABLE tokens ADD COLUMN last_used_at timestamptz;

-- Witnesses registered by the admin (DESIGN §6): only they may cosign.
-- key_id is the C2SP tlog-cosignature key id: SHA-256(name || 0x0A || 0x04 || key)[:4].
CREATE TABLE witnesses (
  name text PRIMARY KEY,
  public_key bytea NOT NULL CHECK (length(public_key) = 32),
  key_id bytea NOT NULL CHECK (length(key_id) = 4),
  created_at timestamptz NOT NULL DEFAULT now()
);
