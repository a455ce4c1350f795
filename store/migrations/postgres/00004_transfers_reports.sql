-- Transfers, Enterprise Agreements and the pool history reports read; the
-- same shape as the SQLite migration (see there for the reasons).

-- +goose Up
CREATE TABLE transfers (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    smart_account_id TEXT COLLATE "C" NOT NULL REFERENCES smart_accounts (id),
    kind             TEXT   NOT NULL,
    from_va_id       TEXT COLLATE "C" NOT NULL,
    from_va_name     TEXT   NOT NULL,
    to_va_id         TEXT COLLATE "C" NOT NULL,
    to_va_name       TEXT   NOT NULL,
    license_type_id  TEXT COLLATE "C",
    license_tag      TEXT   NOT NULL,
    quantity         BIGINT NOT NULL,
    detail_json      TEXT   NOT NULL,
    actor_email      TEXT   NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX transfers_smart_account ON transfers (smart_account_id, id);

CREATE TABLE agreements (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    smart_account_id TEXT COLLATE "C" NOT NULL REFERENCES smart_accounts (id),
    va_id            TEXT COLLATE "C" NOT NULL REFERENCES virtual_accounts (id),
    number           TEXT   NOT NULL,
    starts_at        BIGINT NOT NULL,
    ends_at          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (smart_account_id, number)
);
CREATE INDEX agreements_va ON agreements (va_id, id);

CREATE TABLE agreement_lines (
    agreement_id    TEXT COLLATE "C" NOT NULL REFERENCES agreements (id) ON DELETE CASCADE,
    license_type_id TEXT COLLATE "C" NOT NULL REFERENCES license_types (id),
    quantity        BIGINT NOT NULL,
    PRIMARY KEY (agreement_id, license_type_id)
);
CREATE INDEX agreement_lines_license_type ON agreement_lines (license_type_id);

ALTER TABLE deposits ADD COLUMN transfer_id TEXT COLLATE "C" REFERENCES transfers (id);
ALTER TABLE deposits ADD COLUMN transfer_lot TEXT COLLATE "C" REFERENCES deposits (id);
ALTER TABLE deposits ADD COLUMN agreement_id TEXT COLLATE "C" REFERENCES agreements (id);
CREATE INDEX deposits_transfer ON deposits (transfer_id);
CREATE INDEX deposits_transfer_lot ON deposits (transfer_lot);
CREATE INDEX deposits_agreement ON deposits (agreement_id);
CREATE INDEX deposits_pool ON deposits (va_id, license_type_id);

CREATE TABLE pool_history (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    va_id           TEXT COLLATE "C" NOT NULL REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    license_type_id TEXT COLLATE "C" NOT NULL REFERENCES license_types (id) ON DELETE CASCADE,
    at              BIGINT NOT NULL,
    in_use          BIGINT NOT NULL
);
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
