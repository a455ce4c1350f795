-- A usage report's claim (usage_reports) referenced its instance by a
-- foreign key. PostgreSQL checks a foreign key one inserted row at a time,
-- each with a query of its own that locks the instance row FOR KEY SHARE:
-- ten checks a round for an instance that reports ten times, all about the
-- one row the ingestion has already locked FOR UPDATE (manager/usage.go).
-- Under the usage benchmark the checks were a quarter of PostgreSQL's CPU.
-- Claims are the one table written a row per report; usage marks, a row
-- per license, are updated in place after an instance's first report,
-- which checks no key, and keep theirs.
--
-- The store still refuses a claim of a missing instance: it reads the
-- claims' instances, one row per instance, with the insert (store/usage.go).
-- What the key did besides, deleting an instance's claims with it, a
-- statement trigger on instances does now, for every way an instance goes
-- (deregistration, an account's deletion cascading), once per statement.
--
-- SQLite keeps its key: there a check is an index probe, not a query.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION delete_claims_of_deleted_instances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM usage_reports WHERE instance_id IN (SELECT id FROM deleted);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER instances_delete_claims AFTER DELETE ON instances
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION delete_claims_of_deleted_instances();
ALTER TABLE usage_reports DROP CONSTRAINT usage_reports_instance_id_fkey;

-- +goose Down
DELETE FROM usage_reports WHERE instance_id NOT IN (SELECT id FROM instances);
ALTER TABLE usage_reports ADD FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE;
DROP TRIGGER instances_delete_claims ON instances;
DROP FUNCTION delete_claims_of_deleted_instances();
