-- Schema version 14: late usage. Usage is billed in arrears, with the period after it. A usage
-- record that arrives (or grows) after its period was invoiced — a recurring line of a later
-- period exists — is noted here; the subscription's next bill run bills the difference as a
-- flagged `late_usage` line on the next invoice (the issued one is never rewritten) and clears
-- the note in the same transaction.
CREATE TABLE late_usage (
  subscription_id INTEGER NOT NULL,
  at              TEXT NOT NULL, -- the record's instant: its period is the one containing it
  PRIMARY KEY (subscription_id, at)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER usage_records_late_ai AFTER INSERT ON usage_records
WHEN EXISTS (SELECT 1 FROM invoice_lines l
              WHERE l.key >= 'sub:' || NEW.subscription_id || '/'
                AND l.key < 'sub:' || NEW.subscription_id || '0'
                AND l.kind = 'recurring' AND l.period_from > substr(NEW.at, 1, 10))
BEGIN
  INSERT OR IGNORE INTO late_usage (subscription_id, at) VALUES (NEW.subscription_id, NEW.at);
END;

CREATE TRIGGER usage_records_late_au AFTER UPDATE OF quantity ON usage_records
WHEN NEW.quantity > OLD.quantity AND EXISTS (SELECT 1 FROM invoice_lines l
              WHERE l.key >= 'sub:' || NEW.subscription_id || '/'
                AND l.key < 'sub:' || NEW.subscription_id || '0'
                AND l.kind = 'recurring' AND l.period_from > substr(NEW.at, 1, 10))
BEGIN
  INSERT OR IGNORE INTO late_usage (subscription_id, at) VALUES (NEW.subscription_id, NEW.at);
END;
