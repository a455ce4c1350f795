-- Users, their roles in Smart and Virtual Accounts, access requests and
-- credentials (personal API keys, OAuth clients and their tokens, portal
-- sessions). Every secret is stored as its SHA-256, passwords as argon2id.

-- +goose Up
CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL
) STRICT;

-- A VA role goes with its VA; an SA role has no VA. The unique index
-- treats "no VA" as one value, which a plain UNIQUE over a NULL would not.
CREATE TABLE role_assignments (
    id               TEXT    NOT NULL PRIMARY KEY,
    user_id          TEXT    NOT NULL REFERENCES users (id),
    role             TEXT    NOT NULL,
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id),
    va_id            TEXT    REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX role_assignments_unique ON role_assignments (user_id, smart_account_id, role, coalesce(va_id, ''));
CREATE INDEX role_assignments_sa ON role_assignments (smart_account_id, id);
CREATE INDEX role_assignments_va ON role_assignments (va_id);

CREATE TABLE access_requests (
    id               TEXT    NOT NULL PRIMARY KEY,
    user_id          TEXT    NOT NULL REFERENCES users (id),
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id),
    message          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    decided_by       TEXT    NOT NULL,
    decided_at       INTEGER,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX access_requests_sa ON access_requests (smart_account_id, id);
CREATE INDEX access_requests_user ON access_requests (user_id);

CREATE TABLE user_api_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX user_api_keys_user ON user_api_keys (user_id, id);

CREATE TABLE oauth_clients (
    id               TEXT    NOT NULL PRIMARY KEY,
    client_id        TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    smart_account_id TEXT    REFERENCES smart_accounts (id),
    role             TEXT    NOT NULL,
    scopes           TEXT    NOT NULL,
    secret_hash      TEXT    NOT NULL,
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    revoked_at       INTEGER
) STRICT;
CREATE INDEX oauth_clients_sa ON oauth_clients (smart_account_id, id);

CREATE TABLE oauth_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL UNIQUE,
    scopes     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);

CREATE TABLE sessions (
    id           TEXT    NOT NULL PRIMARY KEY,
    hash         TEXT    NOT NULL UNIQUE,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE oauth_tokens;
DROP TABLE oauth_clients;
DROP TABLE user_api_keys;
DROP TABLE access_requests;
DROP TABLE role_assignments;
DROP TABLE users;
