-- Invitations: an administrator offers an e-mail address a role in its
-- Smart Account; the invitee accepts once with the code, whose SHA-256
-- alone is stored. The VA is not a foreign key: deleting a VA must not wait
-- for its invitations, and accepting one whose VA is gone fails.

-- +goose Up
CREATE TABLE invitations (
    id               TEXT    NOT NULL PRIMARY KEY,
    email            TEXT    NOT NULL,
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id),
    role             TEXT    NOT NULL,
    va_id            TEXT,
    invited_by       TEXT    NOT NULL,
    inviter_user_id  TEXT    REFERENCES users (id),
    code_hash        TEXT    NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    accepted_at      INTEGER,
    accepted_by      TEXT    REFERENCES users (id),
    revoked_at       INTEGER
) STRICT;
CREATE INDEX invitations_sa ON invitations (smart_account_id, id);

-- +goose Down
DROP TABLE invitations;
