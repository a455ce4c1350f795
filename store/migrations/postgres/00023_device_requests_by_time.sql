-- Device requests are keyed by (sent_at, hash) instead of the hash alone,
-- as on SQLite (see its 00023): a random hash put every new request on its
-- own leaf page of the key's B-tree, where (sent_at, hash) puts them at its
-- end. The hash alone still identifies a request: it covers the signed
-- payload, sent_at included, so two copies of a request have the same
-- sent_at and meet on the key (the second INSERT waits for the first).

-- +goose Up
ALTER TABLE device_requests DROP CONSTRAINT device_requests_pkey;
ALTER TABLE device_requests ADD PRIMARY KEY (sent_at, hash);

-- +goose Down
ALTER TABLE device_requests DROP CONSTRAINT device_requests_pkey;
ALTER TABLE device_requests ADD PRIMARY KEY (hash);
