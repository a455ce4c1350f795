-- An upload's list row said how many reports it held, accepted and
-- rejected, but not how many were copies of reports accepted before or
-- how many instances it answered: the list showed 0 for both, where the
-- upload's ACK file said otherwise. The columns are filled from the ACK
-- file each upload keeps. (PostgreSQL's 00025; its 00024 has no SQLite
-- counterpart.)

-- +goose Up
ALTER TABLE usage_uploads ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_uploads ADD COLUMN instances INTEGER NOT NULL DEFAULT 0;
UPDATE usage_uploads SET
    duplicates = COALESCE(json_extract(CAST(ack AS TEXT), '$.summary.duplicates'), 0),
    instances  = COALESCE(json_extract(CAST(ack AS TEXT), '$.summary.instances'), 0);

-- +goose Down
ALTER TABLE usage_uploads DROP COLUMN instances;
ALTER TABLE usage_uploads DROP COLUMN duplicates;
