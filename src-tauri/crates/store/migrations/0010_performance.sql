-- Schema version 10: indexes for the clients table and the bill run at scale.

-- The bill run sums each subscription's usage over a period. Records of one subscription arrive
-- interleaved with everyone else's, so reading `quantity` from the table costs one random page
-- per record; this index answers the query alone, in time order. It replaces
-- usage_records_sub (subscription_id, resource, at), whose lookups the UNIQUE
-- (subscription_id, resource, at, source) index already serves.
CREATE INDEX usage_records_period ON usage_records(subscription_id, at, resource, quantity);
DROP INDEX usage_records_sub;

-- The clients table filtered by product: which clients have a subscription (in any state) to
-- which product, with the client's sort keys beside, so a page of "clients of product P sorted
-- by name" walks only P's clients in order instead of every client, each probed for P. Derived
-- data, kept by the triggers below; the clients table stays the truth.
CREATE TABLE client_products (
  product_id INTEGER NOT NULL,
  client_id  INTEGER NOT NULL,
  name       TEXT NOT NULL,
  email      TEXT NOT NULL,
  status     TEXT NOT NULL,
  PRIMARY KEY (product_id, client_id) -- also the "newest first" order
) STRICT, WITHOUT ROWID;
-- The orders of the clients table (store/src/clients.rs#query), with and without a status
-- filter; "status, then name" is client_products_status_name.
CREATE INDEX client_products_name ON client_products(product_id, name COLLATE NOCASE, client_id);
CREATE INDEX client_products_email ON client_products(product_id, email COLLATE NOCASE, client_id);
CREATE INDEX client_products_status_name ON client_products(product_id, status, name COLLATE NOCASE, client_id);
CREATE INDEX client_products_status_email ON client_products(product_id, status, email COLLATE NOCASE, client_id);
CREATE INDEX client_products_client ON client_products(client_id);

INSERT INTO client_products (product_id, client_id, name, email, status)
  SELECT DISTINCT s.product_id, c.id, c.name, c.email, c.status
    FROM subscriptions s JOIN clients c ON c.id = s.client_id;

CREATE TRIGGER client_products_sub_ai AFTER INSERT ON subscriptions BEGIN
  INSERT OR IGNORE INTO client_products (product_id, client_id, name, email, status)
    SELECT NEW.product_id, c.id, c.name, c.email, c.status FROM clients c WHERE c.id = NEW.client_id;
END;
CREATE TRIGGER client_products_sub_au AFTER UPDATE OF product_id, client_id ON subscriptions
WHEN OLD.product_id IS NOT NEW.product_id OR OLD.client_id IS NOT NEW.client_id BEGIN
  DELETE FROM client_products WHERE product_id = OLD.product_id AND client_id = OLD.client_id
    AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE product_id = OLD.product_id AND client_id = OLD.client_id);
  INSERT OR IGNORE INTO client_products (product_id, client_id, name, email, status)
    SELECT NEW.product_id, c.id, c.name, c.email, c.status FROM clients c WHERE c.id = NEW.client_id;
END;
CREATE TRIGGER client_products_sub_ad AFTER DELETE ON subscriptions BEGIN
  DELETE FROM client_products WHERE product_id = OLD.product_id AND client_id = OLD.client_id
    AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE product_id = OLD.product_id AND client_id = OLD.client_id);
END;
CREATE TRIGGER client_products_client_au AFTER UPDATE OF name, email, status ON clients
WHEN OLD.name IS NOT NEW.name OR OLD.email IS NOT NEW.email OR OLD.status IS NOT NEW.status BEGIN
  UPDATE client_products SET name = NEW.name, email = NEW.email, status = NEW.status
   WHERE client_id = NEW.id;
END;
CREATE TRIGGER client_products_client_ad AFTER DELETE ON clients BEGIN
  DELETE FROM client_products WHERE client_id = OLD.id;
END;
