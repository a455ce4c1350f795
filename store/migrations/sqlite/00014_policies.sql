-- Smart Licensing Using Policy: reporting policies, versioned. One row per
-- version; subject is the scope's key ('default', the Smart Account id or
-- the Virtual Account id), so (subject, version) being the key is what
-- keeps two concurrent edits from both becoming version N. A deleted
-- version marks the end of a custom policy (or the default's reset to the
-- built-in); older versions stay for audit. rules holds the four classes'
-- rules as JSON (smartlic.PolicyRules), validated by the domain.

-- +goose Up
CREATE TABLE policies (
    subject          TEXT    NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 1),
    policy_id        TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    scope            TEXT    NOT NULL CHECK (scope IN ('default', 'smart_account', 'virtual_account')),
    smart_account_id TEXT    REFERENCES smart_accounts (id),
    va_id            TEXT    REFERENCES virtual_accounts (id) ON DELETE CASCADE,
    rules            TEXT    NOT NULL,
    deleted          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    created_by       TEXT    NOT NULL,
    PRIMARY KEY (subject, version)
) STRICT;
CREATE INDEX policies_account ON policies (smart_account_id, subject, version);
-- Deleting a VA deletes its policy versions (ON DELETE CASCADE) by this index.
CREATE INDEX policies_va ON policies (va_id);

-- +goose Down
DROP TABLE policies;
