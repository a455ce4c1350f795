-- An administrator may cancel a SLAC whose device is lost or destroyed: the
-- SLAC is closed without the device's return proof, with a reason for the
-- event log. status gains 'cancelled', returned (how it left) gains
-- 'cancelled', and cancel_reason keeps the administrator's words.
--
-- SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt: a new table with the new constraints, every row copied (all of
-- them satisfy the wider checks), the old one dropped, the new one renamed
-- and the indexes made again. Nothing references slacs, so dropping it
-- removes no other row. goose runs this in one transaction: a failure
-- leaves the old table as it was.

-- +goose Up
CREATE TABLE slacs_new (
    id              TEXT NOT NULL PRIMARY KEY,
    sa_id           TEXT NOT NULL REFERENCES smart_accounts (id),
    va_id           TEXT NOT NULL REFERENCES virtual_accounts (id),
    license_type_id TEXT NOT NULL REFERENCES license_types (id),
    tag             TEXT NOT NULL,
    pid             TEXT NOT NULL,
    sn              TEXT NOT NULL,
    instance_id     TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'returned', 'cancelled')),
    requested       TEXT NOT NULL CHECK (requested IN ('online', 'offline')),
    request_nonce   TEXT NOT NULL,
    return_hash     TEXT NOT NULL,
    issued_at       INTEGER NOT NULL,
    returned_at     INTEGER,
    returned        TEXT CHECK (returned IN ('online', 'offline', 'cancelled')),
    cancel_reason   TEXT,
    document        BLOB NOT NULL,
    UNIQUE (sa_id, request_nonce)
) STRICT;
INSERT INTO slacs_new (id, sa_id, va_id, license_type_id, tag, pid, sn, instance_id, status, requested,
                       request_nonce, return_hash, issued_at, returned_at, returned, cancel_reason, document)
SELECT id, sa_id, va_id, license_type_id, tag, pid, sn, instance_id, status, requested,
       request_nonce, return_hash, issued_at, returned_at, returned, NULL, document
  FROM slacs;
DROP TABLE slacs;
ALTER TABLE slacs_new RENAME TO slacs;
CREATE UNIQUE INDEX slacs_active ON slacs (pid, sn, license_type_id) WHERE status = 'active';
CREATE INDEX slacs_sa ON slacs (sa_id, id);
CREATE INDEX slacs_va ON slacs (va_id, id);
CREATE INDEX slacs_udi ON slacs (pid, sn, id);
CREATE INDEX slacs_license_type ON slacs (license_type_id);

-- +goose Down
-- Cancelled SLACs read as returned (their license is back in the pool
-- either way); the reason is dropped with its column.
CREATE TABLE slacs_old (
    id              TEXT NOT NULL PRIMARY KEY,
    sa_id           TEXT NOT NULL REFERENCES smart_accounts (id),
    va_id           TEXT NOT NULL REFERENCES virtual_accounts (id),
    license_type_id TEXT NOT NULL REFERENCES license_types (id),
    tag             TEXT NOT NULL,
    pid             TEXT NOT NULL,
    sn              TEXT NOT NULL,
    instance_id     TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'returned')),
    requested       TEXT NOT NULL CHECK (requested IN ('online', 'offline')),
    request_nonce   TEXT NOT NULL,
    return_hash     TEXT NOT NULL,
    issued_at       INTEGER NOT NULL,
    returned_at     INTEGER,
    returned        TEXT CHECK (returned IN ('online', 'offline')),
    document        BLOB NOT NULL,
    UNIQUE (sa_id, request_nonce)
) STRICT;
INSERT INTO slacs_old (id, sa_id, va_id, license_type_id, tag, pid, sn, instance_id, status, requested,
                       request_nonce, return_hash, issued_at, returned_at, returned, document)
SELECT id, sa_id, va_id, license_type_id, tag, pid, sn, instance_id,
       CASE status WHEN 'cancelled' THEN 'returned' ELSE status END, requested,
       request_nonce, return_hash, issued_at, returned_at,
       CASE returned WHEN 'cancelled' THEN 'offline' ELSE returned END, document
  FROM slacs;
DROP TABLE slacs;
ALTER TABLE slacs_old RENAME TO slacs;
CREATE UNIQUE INDEX slacs_active ON slacs (pid, sn, license_type_id) WHERE status = 'active';
CREATE INDEX slacs_sa ON slacs (sa_id, id);
CREATE INDEX slacs_va ON slacs (va_id, id);
CREATE INDEX slacs_udi ON slacs (pid, sn, id);
CREATE INDEX slacs_license_type ON slacs (license_type_id);
