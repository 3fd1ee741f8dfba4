-- Events applied by force (a dead letter's retry) into a PostgreSQL read model, recorded in the
-- same transaction as the change: a retry repeated after a crash (change made, letter not yet
-- marked retried) finds its event here and changes nothing.
CREATE TABLE IF NOT EXISTS projection_forced_events (
  model text NOT NULL,
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  forced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, stream_id, stream_version)
);
