-- Card payments given back from a credit note (`credit-note create --refund`). Like a charge, a
-- refund is recorded (pending) before the gateway is called and settled after; its job key,
-- `refund:ID`, is the gateway's idempotency key, so a retried job never refunds twice.
CREATE TABLE refunds (
  id             INTEGER PRIMARY KEY,
  payment_id     INTEGER NOT NULL REFERENCES payments(id),
  credit_note_id INTEGER NOT NULL REFERENCES credit_notes(id),
  amount_minor   INTEGER NOT NULL CHECK (amount_minor > 0),
  currency       TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state = 'pending' OR state = 'succeeded' OR state = 'failed'),
  gateway_ref    TEXT,
  error          TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
) STRICT;
CREATE INDEX refunds_payment ON refunds(payment_id);
CREATE INDEX refunds_credit_note ON refunds(credit_note_id);
