-- Three indexes held an entry for every registration that no query reads,
-- a B-tree insert each on the hottest write: a registration's device
-- request has no instance ('', read by nothing: NewerDeviceRequest orders
-- the requests of one instance), a registered instance has no
-- authorization expiry yet (the alert scan reads expiries before a time,
-- never NULL), and instances_mode served only the listing of instances
-- under Using Policy (PolicyInstances), never the registered ones. Each
-- becomes a partial index of the rows it serves.

-- +goose Up
DROP INDEX device_requests_instance;
CREATE INDEX device_requests_instance ON device_requests (instance_id, sent_at) WHERE instance_id <> '';
DROP INDEX instances_auth_expiry;
CREATE INDEX instances_auth_expiry ON instances (smart_account_id, auth_expires_at) WHERE auth_expires_at IS NOT NULL;
DROP INDEX instances_mode;
CREATE INDEX instances_policy ON instances (smart_account_id, id) WHERE mode = 'policy';

-- +goose Down
DROP INDEX instances_policy;
CREATE INDEX instances_mode ON instances (smart_account_id, mode, id);
DROP INDEX instances_auth_expiry;
CREATE INDEX instances_auth_expiry ON instances (smart_account_id, auth_expires_at);
DROP INDEX device_requests_instance;
CREATE INDEX device_requests_instance ON device_requests (instance_id, sent_at);
