-- An OAuth client acts for the user who created it: when that user loses
-- the power to create it or is disabled, the client is suspended. Clients
-- the operator (an operator key) creates have no creator user and act for
-- the vendor.
--
-- Existing clients are tied to the user whose e-mail created them, and a
-- client created by another client to that client's user.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN creator_user_id TEXT REFERENCES users (id);
UPDATE oauth_clients SET creator_user_id = (SELECT u.id FROM users u WHERE u.email = oauth_clients.created_by);
UPDATE oauth_clients SET creator_user_id = (SELECT p.creator_user_id FROM oauth_clients p WHERE p.client_id = oauth_clients.created_by)
    WHERE creator_user_id IS NULL;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN creator_user_id;
