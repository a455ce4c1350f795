-- Signing keys rotate: `smartlic admin rotate-key` adds a key that signs
-- from then on and gives every older key a retirement time (microseconds).
-- A key is accepted for verifying until retires_at, refused afterwards;
-- NULL means the key is not retiring.

-- +goose Up
ALTER TABLE signing_keys ADD COLUMN retires_at INTEGER;

-- +goose Down
ALTER TABLE signing_keys DROP COLUMN retires_at;
