-- 0030: projections (issue 6). See docs/projections.md.
--
-- Read models live under a *model* name (`<projection>.v<version>.<tag>`); the live one is named
-- in projection_live_models, so a rebuild fills another model and switches in one UPDATE.

-- Which model readers see, per projection. Appliers read the row FOR SHARE in their transaction,
-- so a switch waits for in-flight applies and no change is split across two models.
CREATE TABLE IF NOT EXISTS projection_live_models (
  projection text PRIMARY KEY,
  model text NOT NULL,
  switched_at timestamptz NOT NULL DEFAULT now()
);

-- Exactly-once bookkeeping: the last applied version per stream, per model, updated in the
-- same transaction as the model's change.
CREATE TABLE IF NOT EXISTS projection_stream_versions (
  model text NOT NULL,
  stream_id text NOT NULL,
  version bigint NOT NULL CHECK (version >= 0),
  CONSTRAINT projection_stream_versions_pkey PRIMARY KEY (model, stream_id)
);

-- How far each projector has got per Kafka partition: the last applied event's log position token
-- (32 hex digits, comparable as text; '' when none yet) and offset, and caught_up_as_of: the
-- partition held nothing unapplied that Kafka had acknowledged by then (an idle partition's
-- proof that it holds nothing at or before a position). Read-your-writes checks and lag.
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  projection text NOT NULL,
  kafka_partition integer NOT NULL,
  log_position text NOT NULL,
  kafka_offset bigint NOT NULL,
  caught_up_as_of timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT projection_checkpoints_pkey PRIMARY KEY (projection, kafka_partition)
);

-- Events whose handler kept failing; the projection went on without them.
CREATE TABLE IF NOT EXISTS projection_dead_letters (
  id bigserial PRIMARY KEY,
  projection text NOT NULL,
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  log_position text NOT NULL,
  event_type text NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'retried', 'discarded')),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  CONSTRAINT projection_dead_letters_event_key UNIQUE (projection, stream_id, stream_version)
);

-- The product catalog read model: one row per product per model.
CREATE TABLE IF NOT EXISTS product_catalog_rows (
  model text NOT NULL,
  product_id text NOT NULL,
  sku text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  price_minor bigint NOT NULL,
  currency text NOT NULL,
  on_hand bigint NOT NULL,
  reserved bigint NOT NULL,
  available bigint GENERATED ALWAYS AS (on_hand - reserved) STORED,
  discontinued boolean NOT NULL DEFAULT false,
  stream_version bigint NOT NULL,
  -- 'simple': product names are not English prose; no stemming surprises on codes and brands.
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || description)) STORED,
  CONSTRAINT product_catalog_rows_pkey PRIMARY KEY (model, product_id)
);

CREATE INDEX IF NOT EXISTS product_catalog_rows_search_idx ON product_catalog_rows USING gin (search);
-- Keyset pagination by (price, id) and by id, within a model.
CREATE INDEX IF NOT EXISTS product_catalog_rows_price_idx ON product_catalog_rows (model, price_minor, product_id);

-- What readers query: the live model only, switched atomically with projection_live_models.
CREATE OR REPLACE VIEW product_catalog AS
SELECT r.product_id, r.sku, r.name, r.description, r.price_minor, r.currency, r.on_hand, r.reserved,
       r.available, r.discontinued, r.stream_version, r.search
  FROM product_catalog_rows r
  JOIN projection_live_models l ON l.projection = 'product_catalog' AND l.model = r.model;

-- Products still sold whose available stock is at or below 10 units.
CREATE OR REPLACE VIEW product_low_stock AS
SELECT product_id, sku, name, available, on_hand, reserved
  FROM product_catalog
 WHERE NOT discontinued AND available <= 10;
