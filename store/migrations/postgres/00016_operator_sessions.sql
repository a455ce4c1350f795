-- The vendor operator's portal sessions. The operator signs in with its
-- e-mail and operator API key; the browser then holds a session secret,
-- never the key itself, so a stolen cookie ends with the session (idle or
-- absolute expiry, sign-out) instead of being a lasting API credential.
-- Only the secret's SHA-256 is stored, as for users' sessions. Both kinds
-- of session are deleted by the background jobs once expired.

-- The same shape as the SQLite migration; keys are COLLATE "C" as in 00001.

-- +goose Up
CREATE TABLE operator_sessions (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    hash         TEXT COLLATE "C" NOT NULL UNIQUE,
    api_key_id   TEXT COLLATE "C" NOT NULL REFERENCES api_keys (id),
    csrf_token   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);
CREATE INDEX operator_sessions_seen ON operator_sessions (last_seen_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_seen ON sessions (last_seen_at);

-- +goose Down
DROP INDEX sessions_seen;
DROP INDEX sessions_expiry;
DROP TABLE operator_sessions;
