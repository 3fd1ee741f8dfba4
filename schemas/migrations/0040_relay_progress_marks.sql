-- 0040: when the relay first published through each position, for read-your-writes across
-- streams (projections/read_your_writes.hpp, docs/projections.md "Read-your-writes").
--
-- An idle partition proves it holds nothing unapplied at or before a position P by having been
-- caught up (projection_checkpoints.caught_up_as_of) at a moment when the relay had already
-- published through P. Comparing with the relay checkpoint's *current* time instead moves the
-- goal with every later write, so a busy log starved such reads. Here each checkpoint the relay
-- saves leaves a mark (position, time); the first mark at or past P is the moment P was
-- published, fixed for good, so a partition that passed P stays passed.
--
-- marked_at is clock_timestamp() inside the relay's save: the relay saves a position only after
-- Kafka acknowledged everything up to it, and the statement runs after that, whenever its
-- transaction began. Marks older than a minute are pruned at each save (the newest always stays):
-- for an older P the first remaining mark is later than the true moment, which only asks for a
-- later caught-up time (slower, never wrong). A checkpoint moved back (a relay told to publish
-- again) deletes the marks beyond it, and a deleted checkpoint its marks: what is not published
-- any more is not claimed.
--
-- Idempotent (IF NOT EXISTS / CREATE OR REPLACE), like every migration.

CREATE TABLE IF NOT EXISTS relay_progress_marks (
  relay_name text NOT NULL,
  topic text NOT NULL,
  xid xid8 NOT NULL,
  seq bigint NOT NULL,
  marked_at timestamptz NOT NULL,
  CONSTRAINT relay_progress_marks_pkey PRIMARY KEY (relay_name, topic, xid, seq)
);

CREATE OR REPLACE FUNCTION cqrs_mark_relay_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM relay_progress_marks m WHERE m.relay_name = OLD.relay_name AND m.topic = OLD.topic;
    RETURN OLD;
  END IF;
  DELETE FROM relay_progress_marks m
   WHERE m.relay_name = NEW.relay_name AND m.topic = NEW.topic
     AND ((m.xid, m.seq) > (NEW.xid, NEW.seq) OR m.marked_at < clock_timestamp() - interval '1 minute');
  INSERT INTO relay_progress_marks (relay_name, topic, xid, seq, marked_at)
  VALUES (NEW.relay_name, NEW.topic, NEW.xid, NEW.seq, clock_timestamp())
  ON CONFLICT ON CONSTRAINT relay_progress_marks_pkey DO NOTHING;
  RETURN NEW;
END;
$$;

-- AFTER, so that only rows really written leave a mark: the relay's upsert skips a save that
-- would not move the checkpoint forward (its ON CONFLICT ... WHERE), and a BEFORE INSERT trigger
-- would fire for the conflicting insert too.
CREATE OR REPLACE TRIGGER relay_checkpoints_progress_marks
  AFTER INSERT OR UPDATE OR DELETE ON relay_checkpoints
  FOR EACH ROW EXECUTE FUNCTION cqrs_mark_relay_progress();

-- Checkpoints saved before this migration: marked now (later than when they were published,
-- which is the safe side).
INSERT INTO relay_progress_marks (relay_name, topic, xid, seq, marked_at)
SELECT relay_name, topic, xid, seq, clock_timestamp() FROM relay_checkpoints
ON CONFLICT ON CONSTRAINT relay_progress_marks_pkey DO NOTHING;
