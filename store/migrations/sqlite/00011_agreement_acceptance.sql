-- The customer accepts an Enterprise Agreement's terms once: who and when.

-- +goose Up
ALTER TABLE agreements ADD COLUMN accepted_at INTEGER;
ALTER TABLE agreements ADD COLUMN accepted_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE agreements DROP COLUMN accepted_by;
ALTER TABLE agreements DROP COLUMN accepted_at;
