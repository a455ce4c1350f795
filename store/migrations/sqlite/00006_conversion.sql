-- Classic (PAK) licenses and their conversion to smart licenses. A line's
-- converted count is claimed with one conditional UPDATE, and the CHECK
-- constraints hold the same rule in the schema: no unit converts twice.
-- Conversions are history, like the event log: they name the deposit and
-- Virtual Account they made without foreign keys, so moving or removing
-- those later never rewrites what happened.

-- +goose Up
CREATE TABLE classic_skus (
    id              TEXT    NOT NULL PRIMARY KEY,
    sku             TEXT    NOT NULL UNIQUE,
    description     TEXT    NOT NULL,
    license_type_id TEXT    REFERENCES license_types (id),
    ratio           INTEGER NOT NULL CHECK (ratio >= 1),
    term_days       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX classic_skus_license_type ON classic_skus (license_type_id);

CREATE TABLE paks (
    id               TEXT    NOT NULL PRIMARY KEY,
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id),
    number           TEXT    NOT NULL UNIQUE,
    order_number     TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX paks_smart_account ON paks (smart_account_id, id);

CREATE TABLE pak_lines (
    id        TEXT    NOT NULL PRIMARY KEY,
    pak_id    TEXT    NOT NULL REFERENCES paks (id),
    line      INTEGER NOT NULL,
    sku       TEXT    NOT NULL,
    quantity  INTEGER NOT NULL CHECK (quantity >= 1),
    converted INTEGER NOT NULL CHECK (converted >= 0 AND converted <= quantity),
    UNIQUE (pak_id, line)
) STRICT;

CREATE TABLE pak_fulfillments (
    id        TEXT    NOT NULL PRIMARY KEY,
    line_id   TEXT    NOT NULL REFERENCES pak_lines (id),
    pid       TEXT    NOT NULL,
    sn        TEXT    NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 1),
    converted INTEGER NOT NULL CHECK (converted >= 0 AND converted <= count),
    UNIQUE (line_id, pid, sn)
) STRICT;
-- Device-led conversion finds a device's fulfillments by UDI.
CREATE INDEX pak_fulfillments_udi ON pak_fulfillments (pid, sn);

CREATE TABLE conversions (
    id               TEXT    NOT NULL PRIMARY KEY,
    smart_account_id TEXT    NOT NULL,
    pak_id           TEXT    NOT NULL REFERENCES paks (id),
    line_id          TEXT    NOT NULL REFERENCES pak_lines (id),
    units            INTEGER NOT NULL CHECK (units >= 1),
    va_id            TEXT    NOT NULL,
    deposit_id       TEXT    NOT NULL,
    license_type_id  TEXT    NOT NULL,
    license_tag      TEXT    NOT NULL,
    quantity         INTEGER NOT NULL,
    instance_id      TEXT,
    pid              TEXT,
    sn               TEXT,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX conversions_pak ON conversions (pak_id, id);
CREATE INDEX conversions_line ON conversions (line_id);

-- +goose Down
DROP TABLE conversions;
DROP TABLE pak_fulfillments;
DROP TABLE pak_lines;
DROP TABLE paks;
DROP TABLE classic_skus;
