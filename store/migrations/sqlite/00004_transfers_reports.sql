-- Transfers, Enterprise Agreements and the pool history reports read.
--
-- Deposits stay immutable: a license transfer adds deposit rows, a negative
-- one in the source drawn from a lot (transfer_lot) and a positive one in
-- the destination, both tied to the transfer. An agreement's suite is
-- deposited as ordinary rows tied to the agreement.

-- +goose Up
CREATE TABLE transfers (
    id               TEXT    NOT NULL PRIMARY KEY,
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id),
    kind             TEXT    NOT NULL,
    -- Like the event log, a transfer outlives the VAs it names, so these
    -- are not foreign keys; the names are kept as they were.
    from_va_id       TEXT    NOT NULL,
    from_va_name     TEXT    NOT NULL,
    to_va_id         TEXT    NOT NULL,
    to_va_name       TEXT    NOT NULL,
    license_type_id  TEXT,
    license_tag      TEXT    NOT NULL,
    quantity         INTEGER NOT NULL,
    detail_json      TEXT    NOT NULL,
    actor_email      TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX transfers_smart_account ON transfers (smart_account_id, id);

CREATE TABLE agreements (
    id               TEXT    NOT NULL PRIMARY KEY,
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id),
    va_id            TEXT    NOT NULL REFERENCES virtual_accounts (id),
    number           TEXT    NOT NULL,
    starts_at        INTEGER NOT NULL,
    ends_at          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (smart_account_id, number)
) STRICT;
CREATE INDEX agreements_va ON agreements (va_id, id);

CREATE TABLE agreement_lines (
    agreement_id    TEXT    NOT NULL REFERENCES agreements (id) ON DELETE CASCADE,
    license_type_id TEXT    NOT NULL REFERENCES license_types (id),
    quantity        INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, license_type_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX agreement_lines_license_type ON agreement_lines (license_type_id);

ALTER TABLE deposits ADD COLUMN transfer_id TEXT REFERENCES transfers (id);
ALTER TABLE deposits ADD COLUMN transfer_lot TEXT REFERENCES deposits (id);
ALTER TABLE deposits ADD COLUMN agreement_id TEXT REFERENCES agreements (id);
CREATE INDEX deposits_transfer ON deposits (transfer_id);
CREATE INDEX deposits_transfer_lot ON deposits (transfer_lot);
CREATE INDEX deposits_agreement ON deposits (agreement_id);
-- Lots of a pool: the transfer's lookup.
CREATE INDEX deposits_pool ON deposits (va_id, license_type_id);

-- Every change of a pool counter, written in the transaction that changes
-- it: in_use is the count after the change. seq orders changes within one
-- microsecond. Counters that exist when this migration runs get an entry
-- at time 0 with their current count: history starts here.
CREATE TABLE pool_history (
    seq             INTEGER NOT NULL PRIMARY KEY,
    va_id           TEXT    NOT NULL REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    license_type_id TEXT    NOT NULL REFERENCES license_types (id) ON DELETE CASCADE,
    at              INTEGER NOT NULL,
    in_use          INTEGER NOT NULL
) STRICT;
CREATE INDEX pool_history_pool ON pool_history (va_id, license_type_id, at, seq);
CREATE INDEX pool_history_license_type ON pool_history (license_type_id);
INSERT INTO pool_history (va_id, license_type_id, at, in_use) SELECT va_id, license_type_id, 0, in_use FROM pools;

-- +goose Down
DROP TABLE pool_history;
DROP INDEX deposits_pool;
DROP INDEX deposits_agreement;
DROP INDEX deposits_transfer_lot;
DROP INDEX deposits_transfer;
ALTER TABLE deposits DROP COLUMN agreement_id;
ALTER TABLE deposits DROP COLUMN transfer_lot;
ALTER TABLE deposits DROP COLUMN transfer_id;
DROP TABLE agreement_lines;
DROP TABLE agreements;
DROP TABLE transfers;
