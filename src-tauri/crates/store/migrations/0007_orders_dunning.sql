-- Orders, stored payment methods, plan changes and dunning.

-- How a product's subscriptions start: after payment (the default), at once (trials, free
-- products), or when staff approve the order.
ALTER TABLE products ADD COLUMN activation TEXT NOT NULL DEFAULT 'on_payment'
  CHECK (activation IN ('on_payment', 'immediate', 'approval'));

-- A demo package: instead of a site of its own, an order creates a group (an account and a
-- role) on this existing shared site (its domain).
ALTER TABLE products ADD COLUMN shared_site TEXT;

-- A cancellation at the period end: the first day without service; the bill run bills no period
-- starting on or after it.
ALTER TABLE subscriptions ADD COLUMN cancel_on TEXT;
-- A downgrade or option change waiting for the period end: JSON {product_id, choices, price_minor,
-- label}; applied by the bill run together with the renewal price.
ALTER TABLE subscriptions ADD COLUMN pending_change TEXT;

-- A client's payment method as the gateway stores it: references only, never a card number.
CREATE TABLE payment_methods (
  id             INTEGER PRIMARY KEY,
  client_id      INTEGER NOT NULL REFERENCES clients(id),
  gateway        TEXT NOT NULL CHECK (gateway IN ('stripe', 'authnet')),
  customer_ref   TEXT NOT NULL,
  method_ref     TEXT NOT NULL,
  label          TEXT NOT NULL DEFAULT '',
  created_at     TEXT NOT NULL,
  UNIQUE (gateway, customer_ref, method_ref)
) STRICT;
CREATE INDEX payment_methods_client ON payment_methods(client_id, id);

-- An order: what was asked, the subscription and site it made, the first invoice, how it is paid.
CREATE TABLE orders (
  id              INTEGER PRIMARY KEY,
  client_id       INTEGER NOT NULL REFERENCES clients(id),
  subscription_id INTEGER NOT NULL UNIQUE REFERENCES subscriptions(id),
  site_id         INTEGER REFERENCES sites(id),
  invoice_id      INTEGER REFERENCES invoices(id),
  domain          TEXT NOT NULL,
  pay             TEXT NOT NULL CHECK (pay IN ('stored', 'manual', 'later')),
  state           TEXT NOT NULL CHECK (state IN
                    ('awaiting_payment', 'awaiting_approval', 'provisioning', 'completed',
                     'payment_failed', 'cancelled')),
  quote           TEXT NOT NULL, -- JSON: the price preview the order was placed with
  error           TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX orders_client ON orders(client_id, id);
CREATE INDEX orders_invoice ON orders(invoice_id);

-- Dunning: one row per unpaid issued invoice past its due date, walked by the dunning sweep.
CREATE TABLE dunning (
  invoice_id     INTEGER PRIMARY KEY REFERENCES invoices(id),
  client_id      INTEGER NOT NULL REFERENCES clients(id),
  stage          TEXT NOT NULL CHECK (stage IN ('overdue', 'suspended', 'terminated', 'settled')),
  -- The steps already taken, each once: 'reminder:3', 'retry:1', 'suspend', 'terminate'.
  done           TEXT NOT NULL DEFAULT '[]',
  started_on     TEXT NOT NULL, -- the invoice's due date
  updated_at     TEXT NOT NULL
) STRICT;
CREATE INDEX dunning_stage ON dunning(stage, client_id);

-- An order's jobs are found by its subscription.
CREATE INDEX jobs_subscription ON jobs(subscription_id, id);
