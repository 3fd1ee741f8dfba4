-- 0082: the payments of the order lists, a read model of the Payment aggregate (projection
-- order_list_payment, projections/order/). One row per payment per model (see 0030 for models and
-- live pointers): its order, its status as the payment's events set it, the captured and refunded
-- amounts (a payment whose refunds reach the captured amount reads as `refunded`) and the payment
-- stream's version last applied. The order lists (0080) join it by payment id, each through its
-- own live model, so every listed order carries its payment's status.
--
-- Idempotent (IF NOT EXISTS) like every migration.
CREATE TABLE IF NOT EXISTS order_list_payments (
  model text NOT NULL,
  payment_id text NOT NULL,
  order_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('requested', 'authorized', 'captured', 'declined', 'failed', 'voided')),
  captured_minor bigint NOT NULL,
  refunded_minor bigint NOT NULL,
  stream_version bigint NOT NULL,
  CONSTRAINT order_list_payments_pkey PRIMARY KEY (model, payment_id)
);
