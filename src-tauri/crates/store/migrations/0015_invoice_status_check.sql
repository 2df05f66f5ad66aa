-- The invoices' status CHECK written as comparisons instead of an IN list. SQLite builds a
-- temporary index for an IN list of more than two values each time the CHECK runs, that is on
-- every insert and status change of an invoice (92k of each in a bill run over 100k clients).
-- The constraint is the same; it is rewritten in place the way SQLite documents for changing a
-- CHECK constraint (writable_schema; every row already satisfies it). The migration's hook
-- checks the rewrite and bumps schema_version so that every connection reloads the schema.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql,
     'CHECK (status IN (''draft'', ''issued'', ''partially_paid'', ''paid'', ''void''))',
     'CHECK (status = ''draft'' OR status = ''issued'' OR status = ''partially_paid'' OR status = ''paid'' OR status = ''void'')')
 WHERE type = 'table' AND name = 'invoices';
PRAGMA writable_schema = OFF;
