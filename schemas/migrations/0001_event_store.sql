-- 0001: the event store (issue 3). See docs/event-store.md for the design and the gap-free proof.
--
-- Idempotent (IF NOT EXISTS / CREATE OR REPLACE) although the migration runner applies it once:
-- a hand-run `psql -f` on a migrated database must be harmless.

-- One sequence hands out every event's seq. Numbers are taken before commit, so seq order is NOT
-- commit order: the global log is ordered by (xid, seq) instead (see docs/event-store.md).
CREATE SEQUENCE IF NOT EXISTS event_seq AS bigint;

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

-- Each stream and its version, for listings and lag figures (projection status, benchmarks).
-- Appends do not maintain anything per stream: the unique (stream_id, stream_version) index is
-- the concurrency check (docs/event-store.md), and a stream's version is its highest event.
CREATE OR REPLACE VIEW streams (stream_id, version) AS
  SELECT stream_id, max(stream_version) FROM events GROUP BY stream_id;

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

-- An append for scripts and psql (the e2e tests use it). The store does not call it: it appends
-- with plain prepared statements (core/event_store_sql.cpp), which cost far less than a PL/pgSQL
-- call. Same rules as the store: the events go at versions max + 1 .. max + n of the stream, the
-- unique (stream_id, stream_version) index refuses a version a concurrent writer took, and then
-- "any" and "stream exists" try again on the new max, while an exact expectation has lost.
--
-- p_expected: -1 any, -2 stream exists, 0 no stream, n > 0 exactly n.
-- Returns one row per event (status 0, its stream version, xid and seq), or a single conflict row
-- (status 1, the actual stream version, NULL xid and seq) having written nothing.
-- No NOTIFY here either (docs/event-store.md: it would serialise commits).
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
  v_base bigint;
  v_versions bigint[];
  v_xids xid8[];
  v_seqs bigint[];
  v_constraint text;
BEGIN
  IF v_count IS NULL OR v_count = 0 OR cardinality(p_schema_versions) <> v_count
     OR cardinality(p_event_ids) <> v_count OR cardinality(p_payload_lengths) <> v_count THEN
    RAISE EXCEPTION 'cqrs_append_events: event arrays are empty or of different lengths'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR attempt IN 1..100 LOOP
    SELECT coalesce(max(e.stream_version), 0) INTO v_base FROM events e WHERE e.stream_id = p_stream;
    IF (p_expected = -2 AND v_base = 0) OR (p_expected >= 0 AND v_base <> p_expected) THEN
      RETURN QUERY SELECT 1::smallint, v_base, NULL::xid8, NULL::bigint;
      RETURN;
    END IF;
    BEGIN
      WITH input AS (
        SELECT t.i, t.len, (sum(t.len) OVER (ORDER BY t.i) - t.len)::integer AS off
          FROM unnest(p_payload_lengths) WITH ORDINALITY AS t(len, i)
      ), inserted AS (
        INSERT INTO events AS e (stream_id, stream_version, event_id, event_type, schema_version,
                                 payload, command_id, correlation_id, causation_id, actor, recorded_at)
        SELECT p_stream, v_base + input.i, p_event_ids[input.i], p_types[input.i],
               p_schema_versions[input.i], substring(p_payloads FROM input.off + 1 FOR input.len),
               p_command_id, p_correlation_id, p_causation_id, p_actor, clock_timestamp()
          FROM input ORDER BY input.i
        RETURNING e.stream_version, e.xid, e.seq
      )
      SELECT array_agg(i.stream_version ORDER BY i.stream_version), array_agg(i.xid ORDER BY i.stream_version),
             array_agg(i.seq ORDER BY i.stream_version)
        INTO v_versions, v_xids, v_seqs FROM inserted i;
      IF p_snapshot_state IS NOT NULL THEN
        INSERT INTO snapshots (stream_id, stream_version, schema_version, state)
        VALUES (p_stream, v_base + v_count, p_snapshot_schema_version, p_snapshot_state);
      END IF;
      IF p_idempotency_key IS NOT NULL THEN
        INSERT INTO command_outcomes (idempotency_key, command_fingerprint, outcome, stream_id,
                                      stream_version, xid, seq)
        VALUES (p_idempotency_key, p_command_fingerprint, p_outcome, p_stream, v_base + v_count,
                v_xids[v_count], v_seqs[v_count]);
      END IF;
      RETURN QUERY SELECT 0::smallint, u.v, u.x, u.s FROM unnest(v_versions, v_xids, v_seqs) AS u(v, x, s);
      RETURN;
    EXCEPTION WHEN unique_violation THEN
      GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
      IF v_constraint IS DISTINCT FROM 'events_stream_version_key' THEN
        RAISE;
      END IF;
      -- A concurrent writer took one of the versions (and committed): look again.
    END;
  END LOOP;
  RAISE EXCEPTION 'cqrs_append_events: stream % kept moving', p_stream USING ERRCODE = 'serialization_failure';
END;
$$;
