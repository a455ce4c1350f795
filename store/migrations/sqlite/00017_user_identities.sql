-- Single sign-on (OpenID Connect): a user's binding to an account at a
-- provider, the issuer URL and the provider's subject. A pair is bound to
-- one user, and a user has at most one subject per issuer: an e-mail that
-- changes at the provider cannot move a sign-in to another local user.

-- +goose Up
CREATE TABLE user_identities (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    UNIQUE (issuer, subject),
    UNIQUE (user_id, issuer)
) STRICT;

-- +goose Down
DROP TABLE user_identities;
