-- The initial schema, the same shape as the SQLite one. Times are unix
-- microseconds (UTC) in BIGINT columns: exact, portable between the two
-- dialects and free of time-zone settings. Keys are COLLATE "C" so that
-- "ORDER BY id" and "id > cursor" compare bytes whatever the database's
-- collation is, exactly as SQLite does; the time-ordered ids then page in
-- creation order. Every foreign-key column leads an index, so that deleting
-- a parent row never scans its children.

-- +goose Up
CREATE TABLE signing_keys (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    algorithm   TEXT   NOT NULL,
    public_key  BYTEA  NOT NULL,
    private_key BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    email        TEXT   NOT NULL,
    role         TEXT   NOT NULL,
    hash         TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE license_types (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    tag         TEXT COLLATE "C" NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL,
    term        TEXT   NOT NULL,
    enforcement TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE products (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pid         TEXT COLLATE "C" NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE product_license_types (
    product_id      TEXT COLLATE "C" NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    license_type_id TEXT COLLATE "C" NOT NULL REFERENCES license_types (id),
    PRIMARY KEY (product_id, license_type_id)
);
CREATE INDEX product_license_types_license_type ON product_license_types (license_type_id);

CREATE TABLE smart_accounts (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    domain      TEXT COLLATE "C" NOT NULL UNIQUE,
    limited_use BOOLEAN NOT NULL,
    status      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE virtual_accounts (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    smart_account_id TEXT COLLATE "C" NOT NULL REFERENCES smart_accounts (id),
    parent_id        TEXT COLLATE "C" REFERENCES virtual_accounts (id),
    name             TEXT COLLATE "C" NOT NULL,
    description      TEXT    NOT NULL,
    depth            INTEGER NOT NULL,
    created_at       BIGINT  NOT NULL,
    UNIQUE (smart_account_id, name)
);
CREATE INDEX virtual_accounts_smart_account ON virtual_accounts (smart_account_id, id);
CREATE INDEX virtual_accounts_parent ON virtual_accounts (parent_id);

CREATE TABLE deposits (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    va_id           TEXT COLLATE "C" NOT NULL REFERENCES virtual_accounts (id),
    order_number    TEXT   NOT NULL,
    license_type_id TEXT COLLATE "C" NOT NULL REFERENCES license_types (id),
    quantity        BIGINT NOT NULL,
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX deposits_va ON deposits (va_id, id);
CREATE INDEX deposits_license_type ON deposits (license_type_id);

-- Counters cascade with their VA and license type: the caller deletes a VA
-- only when it is empty and a license type only when nothing uses it, so a
-- counter left behind is zero.
CREATE TABLE pools (
    va_id           TEXT COLLATE "C" NOT NULL REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    license_type_id TEXT COLLATE "C" NOT NULL REFERENCES license_types (id) ON DELETE CASCADE,
    in_use          BIGINT NOT NULL,
    PRIMARY KEY (va_id, license_type_id)
);
CREATE INDEX pools_license_type ON pools (license_type_id);

CREATE TABLE tokens (
    id                      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    va_id                   TEXT COLLATE "C" NOT NULL REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    description             TEXT    NOT NULL,
    hash                    TEXT COLLATE "C" NOT NULL UNIQUE,
    expires_at              BIGINT  NOT NULL,
    max_uses                BIGINT,
    uses                    BIGINT  NOT NULL,
    allow_export_controlled BOOLEAN NOT NULL,
    revoked_at              BIGINT,
    created_at              BIGINT  NOT NULL
);
CREATE INDEX tokens_va ON tokens (va_id, id);

-- instances.smart_account_id alone has no index, the one exception to the
-- rule above: no query reads by it, Smart Accounts are never deleted, and
-- every index costs a page write on each registration, the hottest write.
CREATE TABLE instances (
    id                      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    smart_account_id        TEXT COLLATE "C" NOT NULL REFERENCES smart_accounts (id),
    va_id                   TEXT COLLATE "C" NOT NULL REFERENCES virtual_accounts (id),
    pid                     TEXT COLLATE "C" NOT NULL,
    sn                      TEXT COLLATE "C" NOT NULL,
    hostname                TEXT    NOT NULL,
    product_id              TEXT COLLATE "C" NOT NULL REFERENCES products (id),
    mode                    TEXT    NOT NULL,
    allow_export_controlled BOOLEAN NOT NULL,
    public_key              BYTEA,
    registered_at           BIGINT  NOT NULL,
    last_contact_at         BIGINT  NOT NULL,
    authorized_at           BIGINT,
    auth_expires_at         BIGINT,
    id_cert_expires_at      BIGINT  NOT NULL,
    UNIQUE (pid, sn)
);
CREATE INDEX instances_va ON instances (va_id, id);
CREATE INDEX instances_product ON instances (product_id);

CREATE TABLE instance_usage (
    instance_id     TEXT COLLATE "C" NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    license_type_id TEXT COLLATE "C" NOT NULL REFERENCES license_types (id),
    tag             TEXT COLLATE "C" NOT NULL,
    count           BIGINT NOT NULL,
    status          TEXT   NOT NULL,
    PRIMARY KEY (instance_id, license_type_id)
);
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
