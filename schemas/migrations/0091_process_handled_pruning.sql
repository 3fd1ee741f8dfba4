-- 0091: pruning the events processes handled (commands/processes/, docs/processes.md). The rows
-- of process_handled (0090) of a finished process whose last change is older than the retention
-- (CQRS_PROCESSES_HANDLED_RETENTION_MS) are folded into its instance: per stream, the version up
-- to which every event was handled (handled_through: {"<stream id>": version}), then deleted. A
-- redelivered event at or below that version is a duplicate, as its row said before. Rows above a
-- gap in a stream's versions stay, so nothing unhandled is ever taken for handled.
-- handled_pruned_at: when the rows were last folded; cleared by the next event the process handles,
-- so only processes with rows to fold are looked at.
--
-- Idempotent (IF NOT EXISTS) like every migration.
ALTER TABLE process_instances ADD COLUMN IF NOT EXISTS handled_through jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE process_instances ADD COLUMN IF NOT EXISTS handled_pruned_at timestamptz;

-- The finished processes not yet pruned, oldest change first.
CREATE INDEX IF NOT EXISTS process_instances_prunable_idx
  ON process_instances (updated_at) WHERE finished AND handled_pruned_at IS NULL;
