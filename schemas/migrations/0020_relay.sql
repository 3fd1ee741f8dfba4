-- 0020: the outbox relay's checkpoints (issue 5). See commands/relay/README.md.
--
-- One row per relay name and topic: the furthest log position (xid, seq) such that it and every
-- event before it in the global log are confirmed delivered to Kafka. A relay that restarts
-- resumes after it; anything it sends again lies after it and carries its log position.
--
-- The relay writes this row only on the session that holds its leadership lock
-- (pg_try_advisory_lock), so a successful write also proves the writer still leads. Writes never
-- move the position backwards: `(xid, seq) < new` in the UPDATE's WHERE clause.
--
-- Idempotent (IF NOT EXISTS), like every migration.
CREATE TABLE IF NOT EXISTS relay_checkpoints (
  relay_name text NOT NULL,
  topic text NOT NULL,
  xid xid8 NOT NULL DEFAULT '0',
  seq bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT relay_checkpoints_pkey PRIMARY KEY (relay_name, topic)
);
