-- 0081: the payment provider's webhook events the gateway has acted on (gateway/payment/), by the
-- provider's event id: a second delivery of an id already here is answered 409 and changes
-- nothing. A row is written only after the event's command was decided (accepted or refused),
-- so a delivery that failed half-way is acted on again when the provider retries it; the command
-- itself carries the event id as its idempotency key, so acting twice appends once.
--
-- Idempotent (IF NOT EXISTS) like every migration.
CREATE TABLE IF NOT EXISTS payment_webhook_events (
  event_id text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 200),
  event_type text NOT NULL,
  payment_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS payment_webhook_events_received_idx ON payment_webhook_events (received_at);
