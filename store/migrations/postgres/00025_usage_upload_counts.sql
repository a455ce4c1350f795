-- An upload's list row said how many reports it held, accepted and
-- rejected, but not how many were copies of reports accepted before or
-- how many instances it answered: the list showed 0 for both, where the
-- upload's ACK file said otherwise. The columns are filled from the ACK
-- file each upload keeps.

-- +goose Up
ALTER TABLE usage_uploads ADD COLUMN duplicates BIGINT NOT NULL DEFAULT 0,
                          ADD COLUMN instances  BIGINT NOT NULL DEFAULT 0;
UPDATE usage_uploads SET
    duplicates = COALESCE((convert_from(ack, 'UTF8')::jsonb #>> '{summary,duplicates}')::bigint, 0),
    instances  = COALESCE((convert_from(ack, 'UTF8')::jsonb #>> '{summary,instances}')::bigint, 0);

-- +goose Down
ALTER TABLE usage_uploads DROP COLUMN duplicates, DROP COLUMN instances;
