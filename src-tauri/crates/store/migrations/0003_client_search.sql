-- Schema version 3: full-text search over client names, e-mails, contacts and site domains.
-- A contentless FTS5 index (rowid = client id) kept current by triggers; the view computes
-- one client's searchable text so every trigger shares it.
CREATE VIEW client_search_source AS
SELECT c.id AS id,
       c.name AS name,
       c.email || ' ' || coalesce((SELECT group_concat(k.email, ' ') FROM contacts k WHERE k.client_id = c.id), '') AS emails,
       coalesce((SELECT group_concat(k.name, ' ') FROM contacts k WHERE k.client_id = c.id), '') AS contacts,
       coalesce((SELECT group_concat(s.domain, ' ')
                   FROM sites s JOIN subscriptions u ON u.id = s.subscription_id
                  WHERE u.client_id = c.id), '') AS domains
  FROM clients c;

CREATE VIRTUAL TABLE client_search USING fts5(
  name, emails, contacts, domains,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '1 2 3'
);

INSERT INTO client_search(rowid, name, emails, contacts, domains)
  SELECT id, name, emails, contacts, domains FROM client_search_source;

CREATE TRIGGER client_search_ai AFTER INSERT ON clients BEGIN
  INSERT INTO client_search(rowid, name, emails, contacts, domains)
    SELECT id, name, emails, contacts, domains FROM client_search_source WHERE id = NEW.id;
END;
CREATE TRIGGER client_search_au AFTER UPDATE OF name, email ON clients BEGIN
  DELETE FROM client_search WHERE rowid = NEW.id;
  INSERT INTO client_search(rowid, name, emails, contacts, domains)
    SELECT id, name, emails, contacts, domains FROM client_search_source WHERE id = NEW.id;
END;
CREATE TRIGGER client_search_ad AFTER DELETE ON clients BEGIN
  DELETE FROM client_search WHERE rowid = OLD.id;
END;

-- Contacts and sites change one client's text: a single "touch" table funnels them through
-- one trigger that re-indexes that client.
CREATE TABLE client_search_touch (client_id INTEGER NOT NULL) STRICT;
CREATE TRIGGER client_search_touch_ai AFTER INSERT ON client_search_touch BEGIN
  DELETE FROM client_search WHERE rowid = NEW.client_id;
  INSERT INTO client_search(rowid, name, emails, contacts, domains)
    SELECT id, name, emails, contacts, domains FROM client_search_source WHERE id = NEW.client_id;
  DELETE FROM client_search_touch;
END;
CREATE TRIGGER contacts_search_ai AFTER INSERT ON contacts BEGIN
  INSERT INTO client_search_touch VALUES (NEW.client_id);
END;
CREATE TRIGGER contacts_search_au AFTER UPDATE ON contacts BEGIN
  INSERT INTO client_search_touch VALUES (NEW.client_id);
END;
CREATE TRIGGER contacts_search_ad AFTER DELETE ON contacts BEGIN
  INSERT INTO client_search_touch VALUES (OLD.client_id);
END;
CREATE TRIGGER sites_search_ai AFTER INSERT ON sites BEGIN
  INSERT INTO client_search_touch SELECT client_id FROM subscriptions WHERE id = NEW.subscription_id;
END;
CREATE TRIGGER sites_search_au AFTER UPDATE OF domain ON sites BEGIN
  INSERT INTO client_search_touch SELECT client_id FROM subscriptions WHERE id = NEW.subscription_id;
END;
CREATE TRIGGER sites_search_ad AFTER DELETE ON sites BEGIN
  INSERT INTO client_search_touch SELECT client_id FROM subscriptions WHERE id = OLD.subscription_id;
END;
