-- 0050: refresh tokens (core/security/refresh_token.hpp, docs/security.md).
--
-- Only a token's hash is stored (BLAKE2b-256, hex): a copy of this table lets nobody sign in.
-- Tokens rotate: each use marks the token used and issues its successor in the same family. A
-- used token presented again means it was stolen (or its successor was), so the whole family is
-- revoked (RFC 9700, section 4.14.2).
--
-- Idempotent (IF NOT EXISTS), like every migration.
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash text PRIMARY KEY,
  family_id text NOT NULL,
  subject text NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz
);

CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_subject ON refresh_tokens (subject);
