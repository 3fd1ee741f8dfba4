-- 0010: unique claims (issue 4), first used for product SKUs.
--
-- A value that must be unique across the streams of a category (scope "product.sku": a SKU) is
-- claimed by inserting a row here in the same transaction as the events that introduce it. Two
-- concurrent creates with one SKU both insert; the primary key makes the second wait for the
-- first and then find the value taken (INSERT ... ON CONFLICT DO NOTHING inserts nothing), so
-- exactly one commits its events. A claim is never released: a discontinued product keeps its SKU.
--
-- Idempotent (IF NOT EXISTS) like every migration.
CREATE TABLE IF NOT EXISTS unique_claims (
  scope text NOT NULL,
  value text NOT NULL,
  stream_id text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT unique_claims_pkey PRIMARY KEY (scope, value)
);

-- Which claims a stream holds (for operators and rebuilds).
CREATE INDEX IF NOT EXISTS unique_claims_stream_idx ON unique_claims (stream_id);
