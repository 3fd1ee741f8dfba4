-- 0080: the order lists, a read model of the Order aggregate (projection order_list,
-- projections/order/). One row per order per model (see 0030 for models and live pointers): the
-- order as placed (lines, total, payment id) and where its lifecycle stands. Customers page
-- through their own orders, support and admins through everyone's, newest first, optionally by
-- status.
--
-- Idempotent (IF NOT EXISTS) like every migration.
CREATE TABLE IF NOT EXISTS order_list_rows (
  model text NOT NULL,
  order_id text NOT NULL,
  customer_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('placed', 'stock_reserved', 'paid', 'shipped', 'delivered', 'rejected',
                                         'payment_failed', 'expired', 'cancelled', 'refunded',
                                         'partially_refunded')),
  lines jsonb NOT NULL,
  total_minor bigint NOT NULL,
  currency text NOT NULL,
  payment_id text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  stream_version bigint NOT NULL,
  CONSTRAINT order_list_rows_pkey PRIMARY KEY (model, order_id)
);

-- A customer's orders, newest first (keyset pagination by (created_at, order_id) descending).
CREATE INDEX IF NOT EXISTS order_list_rows_customer_idx
  ON order_list_rows (model, customer_id, created_at DESC, order_id DESC);
-- Everyone's orders (support, admin), newest first, and by status.
CREATE INDEX IF NOT EXISTS order_list_rows_created_idx ON order_list_rows (model, created_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS order_list_rows_status_idx
  ON order_list_rows (model, status, created_at DESC, order_id DESC);
