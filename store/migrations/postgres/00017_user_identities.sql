-- Single sign-on (OpenID Connect): a user's binding to an account at a
-- provider, the issuer URL and the provider's subject. A pair is bound to
-- one user, and a user has at most one subject per issuer: an e-mail that
-- changes at the provider cannot move a sign-in to another local user.
-- Issuer and subject compare byte for byte (COLLATE "C"), as the
-- specification compares them.

-- +goose Up
CREATE TABLE user_identities (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer       TEXT COLLATE "C" NOT NULL,
    subject      TEXT COLLATE "C" NOT NULL,
    email        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    UNIQUE (issuer, subject),
    UNIQUE (user_id, issuer)
);

-- +goose Down
DROP TABLE user_identities;
