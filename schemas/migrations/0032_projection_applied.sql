-- Projections that have applied at least one event, recorded by the projector at its first apply
-- of each session. Redis runs without persistence: a projector that finds a Redis projection's
-- live pointer missing tells a model that lost its data (the projection is recorded here: apply
-- its whole category again from the event store) from a projection's very first apply (it is
-- not), also in a session started after the loss.
CREATE TABLE IF NOT EXISTS projection_applied (
  projection text PRIMARY KEY,
  first_applied_at timestamptz NOT NULL DEFAULT now()
);
