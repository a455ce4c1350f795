-- Device sign-ins (RFC 8628): the CLI polls with the device code while the
-- user confirms the user code in the portal. Both codes are stored as their
-- SHA-256, never in the clear. Rows are forgotten once expired.

-- +goose Up
CREATE TABLE device_authorizations (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    device_code_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    user_code_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    key_name         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    user_id          TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
    api_key_id       TEXT COLLATE "C",
    interval_seconds BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    last_polled_at   BIGINT
);
CREATE INDEX device_authorizations_expiry ON device_authorizations (expires_at);

-- +goose Down
DROP TABLE device_authorizations;
