-- 0001: the event store (issue 3). See docs/event-store.md for the design and the gap-free proof.
--
-- Idempotent (IF NOT EXISTS / CREATE OR REPLACE) although the migration runner applies it once:
-- a hand-run `psql -f` on a migrated database must be harmless.

-- One sequence hands out every event's seq. Numbers are taken before commit, so seq order is NOT
-- commit order: the global log is ordered by (xid, seq) instead (see docs/event-store.md).
CREATE SEQUENCE IF NOT EXISTS event_seq AS bigint;

-- One row per stream. Its row lock is what serialises writers of one stream; writers of
-- different streams touch different rows and never wait for each other.
CREATE TABLE IF NOT EXISTS streams (
  stream_id text PRIMARY KEY,
  version bigint NOT NULL CHECK (version >= 1)
);

CREATE TABLE IF NOT EXISTS events (
  seq bigint NOT NULL DEFAULT nextval('event_seq'),
  -- The writing (top-level) transaction: every xid below a snapshot's xmin is finished, which
  -- makes the prefix of the log in (xid, seq) order below xmin final.
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id text NOT NULL,
  category text GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
  stream_version bigint NOT NULL CHECK (stream_version >= 1),
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  schema_version integer NOT NULL CHECK (schema_version >= 1),
  payload bytea NOT NULL,
  command_id text,
  correlation_id text,
  causation_id text,
  actor text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- The global log order. seq alone is unique by construction (one sequence, no cycle); a second
  -- unique index on it would cost every append and serve no reader.
  CONSTRAINT events_pkey PRIMARY KEY (xid, seq),
  CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
  CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE INDEX IF NOT EXISTS events_category_idx ON events (category, xid, seq);
CREATE INDEX IF NOT EXISTS events_recorded_at_idx ON events (recorded_at);

-- Snapshots of a stream's state at a version, written in the append that reaches that version.
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id text NOT NULL,
  stream_version bigint NOT NULL CHECK (stream_version >= 1),
  schema_version integer NOT NULL CHECK (schema_version >= 1),
  state bytea NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT snapshots_pkey PRIMARY KEY (stream_id, stream_version)
);

-- The outcome of a command by its idempotency key, written in the same transaction as the
-- command's events, so a retried command finds either both or neither. The stream and position
-- columns are nullable so that a command rejected without events can be recorded too.
CREATE TABLE IF NOT EXISTS command_outcomes (
  idempotency_key text NOT NULL,
  command_fingerprint text NOT NULL,
  outcome bytea NOT NULL,
  stream_id text,
  stream_version bigint,
  xid xid8,
  seq bigint,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT command_outcomes_pkey PRIMARY KEY (idempotency_key)
);

-- Appends events to one stream in one statement, so that an autocommit call is one round trip
-- and one transaction. Payloads arrive concatenated in one binary bytea with their lengths,
-- which spares the hex encoding of a bytea[] literal.
--
-- p_expected: -1 any, -2 stream exists, 0 no stream, n > 0 exactly n.
-- Returns one row per event (status 0, its stream version, xid and seq), or a single conflict row
-- (status 1, the actual stream version, NULL xid and seq) having written nothing. A reported
-- actual version always contradicts the expectation: if the stream moved between the failed
-- check and the look-up, the check runs again.
--
-- Written for speed (the append benchmark compares it to a bare INSERT): one statement per
-- step, no nested function call, and a single-event path without unnest or window functions.
--
-- Deliberately no NOTIFY here: pg_notify takes a database-wide lock held through the commit's
-- WAL flush, which would serialise all appends. Writers notify after commit, coalesced.
CREATE OR REPLACE FUNCTION cqrs_append_events(
  p_stream text, p_expected bigint,
  p_types text[], p_schema_versions integer[], p_event_ids uuid[],
  p_payloads bytea, p_payload_lengths integer[],
  p_command_id text, p_correlation_id text, p_causation_id text, p_actor text,
  p_snapshot_schema_version integer, p_snapshot_state bytea,
  p_idempotency_key text, p_command_fingerprint text, p_outcome bytea)
RETURNS TABLE (o_status smallint, o_version bigint, o_xid xid8, o_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_count integer := cardinality(p_types);
  v_new bigint;
  v_actual bigint;
  v_now timestamptz;
BEGIN
  IF v_count IS NULL OR v_count = 0 OR cardinality(p_schema_versions) <> v_count
     OR cardinality(p_event_ids) <> v_count OR cardinality(p_payload_lengths) <> v_count THEN
    RAISE EXCEPTION 'cqrs_append_events: event arrays are empty or of different lengths'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Advance the stream row; its row lock serialises writers of this stream until commit.
  LOOP
    IF p_expected = -1 THEN
      INSERT INTO streams AS s (stream_id, version) VALUES (p_stream, v_count)
      ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_count
      RETURNING s.version INTO v_new;
    ELSIF p_expected = 0 THEN
      -- ON CONFLICT waits for a concurrent creator to finish, so a lost race is a conflict.
      INSERT INTO streams AS s (stream_id, version) VALUES (p_stream, v_count)
      ON CONFLICT DO NOTHING RETURNING s.version INTO v_new;
    ELSE
      -- READ COMMITTED re-checks the WHERE against the newest version after waiting for the lock.
      UPDATE streams s SET version = s.version + v_count
       WHERE s.stream_id = p_stream AND (p_expected = -2 OR s.version = p_expected)
      RETURNING s.version INTO v_new;
    END IF;
    EXIT WHEN v_new IS NOT NULL;
    SELECT coalesce(max(s.version), 0) INTO v_actual FROM streams s WHERE s.stream_id = p_stream;
    IF (p_expected = -2 AND v_actual = 0) OR (p_expected >= 0 AND v_actual <> p_expected) THEN
      RETURN QUERY SELECT 1::smallint, v_actual, NULL::xid8, NULL::bigint;
      RETURN;
    END IF;
  END LOOP;
  -- Taken once the stream row is locked, so that within a stream recorded_at never decreases
  -- (now() is the transaction's start, which may precede a competitor's commit).
  v_now := clock_timestamp();

  IF v_count = 1 THEN
    INSERT INTO events AS e (stream_id, stream_version, event_id, event_type, schema_version,
                             payload, command_id, correlation_id, causation_id, actor, recorded_at)
    VALUES (p_stream, v_new, p_event_ids[1], p_types[1], p_schema_versions[1], p_payloads,
            p_command_id, p_correlation_id, p_causation_id, p_actor, v_now)
    RETURNING 0::smallint, e.stream_version, e.xid, e.seq INTO o_status, o_version, o_xid, o_seq;
    RETURN NEXT;
  ELSE
    RETURN QUERY
    WITH input AS (
      SELECT t.i, t.len, (sum(t.len) OVER (ORDER BY t.i) - t.len)::integer AS off
        FROM unnest(p_payload_lengths) WITH ORDINALITY AS t(len, i)
    ), inserted AS (
      INSERT INTO events AS e (stream_id, stream_version, event_id, event_type, schema_version,
                               payload, command_id, correlation_id, causation_id, actor, recorded_at)
      SELECT p_stream, v_new - v_count + input.i, p_event_ids[input.i], p_types[input.i],
             p_schema_versions[input.i], substring(p_payloads FROM input.off + 1 FOR input.len),
             p_command_id, p_correlation_id, p_causation_id, p_actor, v_now
        FROM input ORDER BY input.i
      RETURNING e.stream_version, e.xid, e.seq
    )
    SELECT 0::smallint, inserted.stream_version, inserted.xid, inserted.seq
      FROM inserted ORDER BY inserted.stream_version;
  END IF;

  IF p_snapshot_state IS NOT NULL THEN
    INSERT INTO snapshots (stream_id, stream_version, schema_version, state)
    VALUES (p_stream, v_new, p_snapshot_schema_version, p_snapshot_state);
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    -- The outcome points at the command's last event, whose seq is known only now.
    INSERT INTO command_outcomes (idempotency_key, command_fingerprint, outcome, stream_id,
                                  stream_version, xid, seq)
    SELECT p_idempotency_key, p_command_fingerprint, p_outcome, p_stream, v_new, e.xid, e.seq
      FROM events e WHERE e.stream_id = p_stream AND e.stream_version = v_new;
  END IF;
END;
$$;
