-- Device sign-ins (RFC 8628): the CLI polls with the device code while the
-- user confirms the user code in the portal. Both codes are stored as their
-- SHA-256, never in the clear. Rows are forgotten once expired.

-- +goose Up
CREATE TABLE device_authorizations (
    id               TEXT NOT NULL PRIMARY KEY,
    device_code_hash TEXT NOT NULL UNIQUE,
    user_code_hash   TEXT NOT NULL UNIQUE,
    key_name         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    api_key_id       TEXT,
    interval_seconds INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    last_polled_at   INTEGER
) STRICT;
CREATE INDEX device_authorizations_expiry ON device_authorizations (expires_at);

-- +goose Down
DROP TABLE device_authorizations;
