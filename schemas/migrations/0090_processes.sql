-- 0090: process managers (commands/processes/, docs/processes.md). A process's state, the events
-- it has handled, the actions it asked for (commands and effects, each with its deterministic
-- idempotency key) and its deadlines are written in one transaction per reaction; the actions are
-- then carried out by the runtime's workers, in order per process.
--
-- Idempotent (IF NOT EXISTS) like every migration.

-- One row per process instance (process_type names the process manager: order_fulfilment).
CREATE TABLE IF NOT EXISTS process_instances (
  process_type text NOT NULL,
  process_id text NOT NULL,
  step text NOT NULL,                    -- where the process is, for operators
  state text NOT NULL,                   -- the process's own data (its encoding)
  finished boolean NOT NULL DEFAULT false,
  stuck boolean NOT NULL DEFAULT false,  -- an action gave up after its attempts: an operator retries
  last_error text,
  attempts integer NOT NULL DEFAULT 0,   -- failed attempts of its current action
  deadline timestamptz,                  -- its earliest deadline (copied from process_deadlines)
  correlation_id text NOT NULL,          -- of the event that started it
  last_event_id text NOT NULL,           -- causation of what deadlines and effects lead to
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT process_instances_pkey PRIMARY KEY (process_type, process_id)
);

CREATE INDEX IF NOT EXISTS process_instances_step_idx ON process_instances (step, process_type, process_id);
CREATE INDEX IF NOT EXISTS process_instances_stuck_idx ON process_instances (process_type, process_id) WHERE stuck;

-- Events handled, by stream and version: a redelivered event finds its row and changes nothing.
CREATE TABLE IF NOT EXISTS process_handled (
  process_type text NOT NULL,
  process_id text NOT NULL,
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  event_id text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT process_handled_pkey PRIMARY KEY (process_type, process_id, stream_id, stream_version)
);

-- Commands and effects a process asked for. `name` is a command's target stream or an effect's
-- name; a command's contract is (payload_type, payload_version, payload). The idempotency key,
-- "<process_type>:<process_id>:<key>", is what the command pipeline or the provider sees.
-- not_before: when a worker may take it (a taken one is leased until then).
CREATE TABLE IF NOT EXISTS process_actions (
  id bigserial PRIMARY KEY,
  process_type text NOT NULL,
  process_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('command', 'effect')),
  key text NOT NULL,
  name text NOT NULL,
  payload_type text NOT NULL DEFAULT '',
  payload_version integer NOT NULL DEFAULT 0,
  payload text NOT NULL,
  idempotency_key text NOT NULL,
  limited boolean NOT NULL DEFAULT true,
  correlation_id text NOT NULL,
  causation_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'refused', 'cancelled', 'failed')),
  cancel_requested boolean NOT NULL DEFAULT false,
  attempts integer NOT NULL DEFAULT 0,
  not_before timestamptz NOT NULL DEFAULT now(),
  leased_until timestamptz,
  last_error text,
  outcome text,
  created_at timestamptz NOT NULL DEFAULT now(),
  done_at timestamptz,
  CONSTRAINT process_actions_key UNIQUE (idempotency_key)
);

CREATE INDEX IF NOT EXISTS process_actions_due_idx ON process_actions (not_before, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS process_actions_process_idx ON process_actions (process_type, process_id, id);

-- Deadlines, polled by the workers: they survive restarts. One per (process, name).
CREATE TABLE IF NOT EXISTS process_deadlines (
  process_type text NOT NULL,
  process_id text NOT NULL,
  name text NOT NULL,
  due_at timestamptz NOT NULL,
  CONSTRAINT process_deadlines_pkey PRIMARY KEY (process_type, process_id, name)
);

CREATE INDEX IF NOT EXISTS process_deadlines_due_idx ON process_deadlines (due_at);

-- Other names a process is found by (an order's payment id leads to the order's process).
CREATE TABLE IF NOT EXISTS process_aliases (
  process_type text NOT NULL,
  alias text NOT NULL,
  process_id text NOT NULL,
  CONSTRAINT process_aliases_pkey PRIMARY KEY (process_type, alias)
);
