-- Device requests already accepted, so that each is single-use: a signed
-- request is remembered by the hash of what it signed until it could no
-- longer pass the freshness check (sent_at within the clock skew), with the
-- answer it got, so a retry of the same envelope gets the same answer and a
-- replay changes nothing. The primary key is what makes two racing copies
-- take effect once. The background jobs delete rows past expires_at.

-- +goose Up
CREATE TABLE device_requests (
    hash        TEXT    NOT NULL PRIMARY KEY, -- SHA-256 of type, 0x00, payload
    instance_id TEXT    NOT NULL,             -- '' for registrations
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    answer      TEXT                          -- the signed answer, JSON
) STRICT;
-- sent_at must increase per instance: a newer accepted request is looked up.
CREATE INDEX device_requests_instance ON device_requests (instance_id, sent_at);
CREATE INDEX device_requests_expiry ON device_requests (expires_at);

-- +goose Down
DROP TABLE device_requests;
