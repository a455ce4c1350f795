-- Export control: the vendor's per-Smart-Account setting, and the Smart
-- License Authorization Codes (SLACs) issued to devices. An active SLAC
-- holds one license of its type in its Virtual Account's pool (counted in
-- pools.in_use); one device holds at most one active SLAC per license type,
-- and a request (its nonce) is answered at most once per Smart Account.

-- +goose Up
CREATE TABLE export_controls (
    sa_id      TEXT NOT NULL PRIMARY KEY REFERENCES smart_accounts (id),
    allowed    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE slacs (
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
CREATE UNIQUE INDEX slacs_active ON slacs (pid, sn, license_type_id) WHERE status = 'active';
CREATE INDEX slacs_sa ON slacs (sa_id, id);
CREATE INDEX slacs_va ON slacs (va_id, id);
CREATE INDEX slacs_udi ON slacs (pid, sn, id);
CREATE INDEX slacs_license_type ON slacs (license_type_id);

-- +goose Down
DROP TABLE slacs;
DROP TABLE export_controls;
