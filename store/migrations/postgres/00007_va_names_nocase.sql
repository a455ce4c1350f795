-- Virtual Account names are unique within a Smart Account ignoring the
-- case of ASCII letters ("Lab" and "lab" are one name), as Smart Account
-- domains are: otherwise "--va lab" finds a different, empty VA than the
-- "Lab" a person meant. SQLite's lower() folds only A-Z, and so does
-- PostgreSQL's on the column's "C" collation: one rule on both stores, the
-- one smartlic.VANameKey applies in Go.
--
-- A database may already hold names that differ only by case. The oldest
-- VA of each such group (by creation time, then id; DEFAULT is always the
-- oldest of its Smart Account) keeps its name; each later one is renamed
-- "<name> (2)", "<name> (3)", … in creation order, cut to fit 100
-- characters. Ids do not change, so licenses, instances, tokens, roles and
-- the event log are untouched; only lookups by the old name change.

-- +goose Up
CREATE TABLE va_name_renames AS
SELECT v.id AS id,
       substr(v.name, 1, 90) || ' (' || (
           (SELECT COUNT(*) FROM virtual_accounts o
             WHERE o.smart_account_id = v.smart_account_id AND lower(o.name) = lower(v.name)
               AND (o.created_at < v.created_at OR (o.created_at = v.created_at AND o.id < v.id))) + 1
       ) || ')' AS name
  FROM virtual_accounts v
 WHERE EXISTS (SELECT 1 FROM virtual_accounts o
                WHERE o.smart_account_id = v.smart_account_id AND lower(o.name) = lower(v.name)
                  AND (o.created_at < v.created_at OR (o.created_at = v.created_at AND o.id < v.id)));

UPDATE virtual_accounts SET name = (SELECT r.name FROM va_name_renames r WHERE r.id = virtual_accounts.id)
 WHERE id IN (SELECT id FROM va_name_renames);

DROP TABLE va_name_renames;

CREATE UNIQUE INDEX virtual_accounts_name_nocase ON virtual_accounts (smart_account_id, lower(name));

-- +goose Down
-- Renamed duplicates keep their new names.
DROP INDEX virtual_accounts_name_nocase;
