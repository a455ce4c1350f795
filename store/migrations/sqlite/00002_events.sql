-- The event log: append-only entries chained by hash per Smart Account (or
-- the vendor chain), and one head row per chain. The head row is what
-- appends lock, so appends to one chain are serial, and it records the
-- last entry so that entries cut off the end are noticed.

-- +goose Up
CREATE TABLE event_chains (
    chain TEXT    NOT NULL PRIMARY KEY,
    seq   INTEGER NOT NULL,
    hash  TEXT    NOT NULL
) STRICT;

CREATE TABLE events (
    id          TEXT    NOT NULL PRIMARY KEY,
    chain       TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    sa_id       TEXT,
    va_id       TEXT,
    type        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    actor_email TEXT    NOT NULL,
    actor_role  TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    UNIQUE (chain, seq)
) STRICT;
-- Entries are never foreign keys to what they describe: the log outlives
-- deleted Virtual Accounts and instances.
CREATE INDEX events_chain_va ON events (chain, va_id, seq);
CREATE INDEX events_chain_at ON events (chain, at);

-- +goose Down
DROP TABLE events;
DROP TABLE event_chains;
