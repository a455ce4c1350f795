-- Device requests were keyed by their hash alone. A hash is random, so
-- every registration wrote its own leaf page of the key's index: a batch
-- of three registrations dirtied three pages there, besides the last pages
-- of the table and of the expiry index. Keyed by (sent_at, hash), new
-- requests go to the end of the index, as devices' clocks agree within
-- seconds (in a throwaway test, batches of three 560-byte requests wrote
-- 5.3 WAL frames each instead of 7.8). The hash alone still identifies a
-- request: it covers the signed payload, sent_at included, so two copies
-- of a request have the same sent_at and meet on the key.
--
-- Not WITHOUT ROWID: a request with its answer is over 500 bytes, and
-- appending such rows to an index B-tree rebalances sibling pages on every
-- split, where a rowid table only adds a page (6.5 frames a batch in the
-- same test).

-- +goose Up
CREATE TABLE device_requests_new (
    hash        TEXT    NOT NULL, -- SHA-256 of type, 0x00, payload (sent_at included)
    instance_id TEXT    NOT NULL, -- '' for registrations
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    answer      TEXT,             -- the signed answer, JSON
    PRIMARY KEY (sent_at, hash)
) STRICT;
INSERT INTO device_requests_new (hash, instance_id, sent_at, expires_at, answer)
    SELECT hash, instance_id, sent_at, expires_at, answer FROM device_requests ORDER BY sent_at, hash;
DROP TABLE device_requests;
ALTER TABLE device_requests_new RENAME TO device_requests;
CREATE INDEX device_requests_instance ON device_requests (instance_id, sent_at) WHERE instance_id <> '';
CREATE INDEX device_requests_expiry ON device_requests (expires_at);

-- +goose Down
CREATE TABLE device_requests_old (
    hash        TEXT    NOT NULL PRIMARY KEY,
    instance_id TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    answer      TEXT
) STRICT;
INSERT INTO device_requests_old (hash, instance_id, sent_at, expires_at, answer)
    SELECT hash, instance_id, sent_at, expires_at, answer FROM device_requests;
DROP TABLE device_requests;
ALTER TABLE device_requests_old RENAME TO device_requests;
CREATE INDEX device_requests_instance ON device_requests (instance_id, sent_at) WHERE instance_id <> '';
CREATE INDEX device_requests_expiry ON device_requests (expires_at);
