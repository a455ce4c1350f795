-- Reservations (SLR and PLR): licenses reserved for an air-gapped product
-- instance with paste-able codes. A pool's reserved licenses are counted in
-- its in_use as well (they are consumed), and in reserved so that views can
-- show them apart.

-- +goose Up
ALTER TABLE pools ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
-- The history keeps the reserved count beside in_use, so that a report at a
-- past moment shows it apart too.
ALTER TABLE pool_history ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;

CREATE TABLE reservations (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    sa_id        TEXT COLLATE "C" NOT NULL REFERENCES smart_accounts (id),
    va_id        TEXT COLLATE "C" NOT NULL REFERENCES virtual_accounts (id),
    udi_pid      TEXT COLLATE "C" NOT NULL,
    udi_sn       TEXT COLLATE "C" NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('specific', 'permanent')),
    status       TEXT    NOT NULL CHECK (status IN ('authorized', 'updating', 'installed', 'returned', 'cancelled')),
    fingerprint  TEXT COLLATE "C" NOT NULL UNIQUE,
    device_key   BYTEA   NOT NULL,
    seq          BIGINT  NOT NULL,
    confirmed    BIGINT  NOT NULL,
    licenses     TEXT    NOT NULL,
    previous     TEXT    NOT NULL,
    auth_code    TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    closed_at    BIGINT,
    close_reason TEXT    NOT NULL
);
CREATE INDEX reservations_sa ON reservations (sa_id, id);
CREATE INDEX reservations_va ON reservations (va_id, id);
CREATE INDEX reservations_udi ON reservations (udi_pid, udi_sn);
-- One open reservation per UDI: a second request is refused while one holds.
CREATE UNIQUE INDEX reservations_open_udi ON reservations (udi_pid, udi_sn)
    WHERE status IN ('authorized', 'updating', 'installed');

-- The vendor's permission for permanent reservations: subject is 'product'
-- or 'smart_account', a PLR needs a row for both.
CREATE TABLE reservation_permissions (
    subject    TEXT NOT NULL CHECK (subject IN ('product', 'smart_account')),
    subject_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (subject, subject_id)
);

-- +goose Down
DROP TABLE reservation_permissions;
DROP TABLE reservations;
ALTER TABLE pool_history DROP COLUMN reserved;
ALTER TABLE pools DROP COLUMN reserved;
