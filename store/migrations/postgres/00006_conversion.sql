-- Classic (PAK) licenses and their conversion to smart licenses. A line's
-- converted count is claimed with one conditional UPDATE, and the CHECK
-- constraints hold the same rule in the schema: no unit converts twice.
-- Conversions are history, like the event log: they name the deposit and
-- Virtual Account they made without foreign keys, so moving or removing
-- those later never rewrites what happened.

-- The same shape as the SQLite migration; keys are COLLATE "C" as in 00001.

-- +goose Up
CREATE TABLE classic_skus (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    sku             TEXT COLLATE "C" NOT NULL UNIQUE,
    description     TEXT COLLATE "C" NOT NULL,
    license_type_id TEXT COLLATE "C" REFERENCES license_types (id),
    ratio           BIGINT  NOT NULL CHECK (ratio >= 1),
    term_days       BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX classic_skus_license_type ON classic_skus (license_type_id);

CREATE TABLE paks (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    smart_account_id TEXT COLLATE "C" NOT NULL REFERENCES smart_accounts (id),
    number           TEXT COLLATE "C" NOT NULL UNIQUE,
    order_number     TEXT COLLATE "C" NOT NULL,
    created_at       BIGINT  NOT NULL
);
CREATE INDEX paks_smart_account ON paks (smart_account_id, id);

CREATE TABLE pak_lines (
    id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pak_id    TEXT COLLATE "C" NOT NULL REFERENCES paks (id),
    line      BIGINT  NOT NULL,
    sku       TEXT COLLATE "C" NOT NULL,
    quantity  BIGINT  NOT NULL CHECK (quantity >= 1),
    converted BIGINT  NOT NULL CHECK (converted >= 0 AND converted <= quantity),
    UNIQUE (pak_id, line)
);

CREATE TABLE pak_fulfillments (
    id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    line_id   TEXT COLLATE "C" NOT NULL REFERENCES pak_lines (id),
    pid       TEXT COLLATE "C" NOT NULL,
    sn        TEXT COLLATE "C" NOT NULL,
    count     BIGINT  NOT NULL CHECK (count >= 1),
    converted BIGINT  NOT NULL CHECK (converted >= 0 AND converted <= count),
    UNIQUE (line_id, pid, sn)
);
-- Device-led conversion finds a device's fulfillments by UDI.
CREATE INDEX pak_fulfillments_udi ON pak_fulfillments (pid, sn);

CREATE TABLE conversions (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    smart_account_id TEXT COLLATE "C" NOT NULL,
    pak_id           TEXT COLLATE "C" NOT NULL REFERENCES paks (id),
    line_id          TEXT COLLATE "C" NOT NULL REFERENCES pak_lines (id),
    units            BIGINT  NOT NULL CHECK (units >= 1),
    va_id            TEXT COLLATE "C" NOT NULL,
    deposit_id       TEXT COLLATE "C" NOT NULL,
    license_type_id  TEXT COLLATE "C" NOT NULL,
    license_tag      TEXT COLLATE "C" NOT NULL,
    quantity         BIGINT  NOT NULL,
    instance_id      TEXT,
    pid              TEXT,
    sn               TEXT,
    created_at       BIGINT  NOT NULL
);
CREATE INDEX conversions_pak ON conversions (pak_id, id);
CREATE INDEX conversions_line ON conversions (line_id);

-- +goose Down
DROP TABLE conversions;
DROP TABLE pak_fulfillments;
DROP TABLE pak_lines;
DROP TABLE paks;
DROP TABLE classic_skus;
