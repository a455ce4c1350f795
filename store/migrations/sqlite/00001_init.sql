-- The initial schema. Times are unix microseconds (UTC) in INTEGER columns,
-- the same representation as in PostgreSQL, so both dialects sort and
-- compare them identically. Every foreign-key column is the leading column
-- of an index: SQLite checks foreign keys on delete by searching the child
-- table, and without an index that search is a full scan.

-- +goose Up
CREATE TABLE signing_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    algorithm   TEXT    NOT NULL,
    public_key  BLOB    NOT NULL,
    private_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    email        TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;

CREATE TABLE license_types (
    id          TEXT    NOT NULL PRIMARY KEY,
    tag         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    term        TEXT    NOT NULL,
    enforcement TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE products (
    id          TEXT    NOT NULL PRIMARY KEY,
    pid         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE product_license_types (
    product_id      TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    license_type_id TEXT NOT NULL REFERENCES license_types (id),
    PRIMARY KEY (product_id, license_type_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX product_license_types_license_type ON product_license_types (license_type_id);

CREATE TABLE smart_accounts (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    domain      TEXT    NOT NULL UNIQUE,
    limited_use INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE virtual_accounts (
    id               TEXT    NOT NULL PRIMARY KEY,
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id),
    parent_id        TEXT    REFERENCES virtual_accounts (id),
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    depth            INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (smart_account_id, name)
) STRICT;
CREATE INDEX virtual_accounts_smart_account ON virtual_accounts (smart_account_id, id);
CREATE INDEX virtual_accounts_parent ON virtual_accounts (parent_id);

CREATE TABLE deposits (
    id              TEXT    NOT NULL PRIMARY KEY,
    va_id           TEXT    NOT NULL REFERENCES virtual_accounts (id),
    order_number    TEXT    NOT NULL,
    license_type_id TEXT    NOT NULL REFERENCES license_types (id),
    quantity        INTEGER NOT NULL,
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX deposits_va ON deposits (va_id, id);
CREATE INDEX deposits_license_type ON deposits (license_type_id);

-- Counters cascade with their VA and license type: the caller deletes a VA
-- only when it is empty and a license type only when nothing uses it, so a
-- counter left behind is zero.
CREATE TABLE pools (
    va_id           TEXT    NOT NULL REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    license_type_id TEXT    NOT NULL REFERENCES license_types (id) ON DELETE CASCADE,
    in_use          INTEGER NOT NULL,
    PRIMARY KEY (va_id, license_type_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX pools_license_type ON pools (license_type_id);

CREATE TABLE tokens (
    id                      TEXT    NOT NULL PRIMARY KEY,
    va_id                   TEXT    NOT NULL REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    description             TEXT    NOT NULL,
    hash                    TEXT    NOT NULL UNIQUE,
    expires_at              INTEGER NOT NULL,
    max_uses                INTEGER,
    uses                    INTEGER NOT NULL,
    allow_export_controlled INTEGER NOT NULL,
    revoked_at              INTEGER,
    created_at              INTEGER NOT NULL
) STRICT;
CREATE INDEX tokens_va ON tokens (va_id, id);

-- instances.smart_account_id alone has no index, the one exception to the
-- rule above: no query reads by it, Smart Accounts are never deleted, and
-- every index costs a page write on each registration, the hottest write.
CREATE TABLE instances (
    id                      TEXT    NOT NULL PRIMARY KEY,
    smart_account_id        TEXT    NOT NULL REFERENCES smart_accounts (id),
    va_id                   TEXT    NOT NULL REFERENCES virtual_accounts (id),
    pid                     TEXT    NOT NULL,
    sn                      TEXT    NOT NULL,
    hostname                TEXT    NOT NULL,
    product_id              TEXT    NOT NULL REFERENCES products (id),
    mode                    TEXT    NOT NULL,
    allow_export_controlled INTEGER NOT NULL,
    public_key              BLOB,
    registered_at           INTEGER NOT NULL,
    last_contact_at         INTEGER NOT NULL,
    authorized_at           INTEGER,
    auth_expires_at         INTEGER,
    id_cert_expires_at      INTEGER NOT NULL,
    UNIQUE (pid, sn)
) STRICT;
CREATE INDEX instances_va ON instances (va_id, id);
CREATE INDEX instances_product ON instances (product_id);

CREATE TABLE instance_usage (
    instance_id     TEXT    NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    license_type_id TEXT    NOT NULL REFERENCES license_types (id),
    tag             TEXT    NOT NULL,
    count           INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    PRIMARY KEY (instance_id, license_type_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX instance_usage_license_type ON instance_usage (license_type_id);

-- +goose Down
DROP TABLE instance_usage;
DROP TABLE instances;
DROP TABLE tokens;
DROP TABLE pools;
DROP TABLE deposits;
DROP TABLE virtual_accounts;
DROP TABLE smart_accounts;
DROP TABLE product_license_types;
DROP TABLE products;
DROP TABLE license_types;
DROP TABLE api_keys;
DROP TABLE signing_keys;
