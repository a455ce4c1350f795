-- Smart Licensing Using Policy (docs/protocols.md): trust, signed usage
-- (RUM) reports and their ACKs, offline usage files.
--
-- instances gains the trust code in force and the reporting times the
-- overdue rules read. public_key stays NULL for an instance whose offline
-- trust code has not yet been bound to a key by its first report.

-- +goose Up
ALTER TABLE instances ADD COLUMN trust_serial TEXT;
ALTER TABLE instances ADD COLUMN trusted_at INTEGER;
ALTER TABLE instances ADD COLUMN first_use_at INTEGER;
ALTER TABLE instances ADD COLUMN last_report_at INTEGER;
ALTER TABLE instances ADD COLUMN last_ack_at INTEGER;
ALTER TABLE instances ADD COLUMN usage_changed_at INTEGER;

-- Every report accepted, by the id its instance gave it: a report sent N
-- times counts once. hash is the SHA-256 of what its signature covers, so
-- a different report under a used id is told apart from a copy.
CREATE TABLE usage_reports (
    instance_id TEXT    NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    report_id   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (instance_id, report_id)
) STRICT, WITHOUT ROWID;

-- The newest measurement seen per instance and license tag: a report that
-- arrives late never sets usage back to an older count.
CREATE TABLE usage_marks (
    instance_id    TEXT    NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    tag            TEXT    NOT NULL,
    measured_until INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    PRIMARY KEY (instance_id, tag)
) STRICT, WITHOUT ROWID;

-- Offline usage files uploaded to a Smart Account, with the ACK file each
-- got, so that it can be downloaded again.
CREATE TABLE usage_uploads (
    id               TEXT    NOT NULL PRIMARY KEY,
    smart_account_id TEXT    NOT NULL REFERENCES smart_accounts (id) ON DELETE CASCADE,
    file_name        TEXT    NOT NULL,
    uploaded_by      TEXT    NOT NULL,
    uploaded_at      INTEGER NOT NULL,
    reports          INTEGER NOT NULL,
    accepted         INTEGER NOT NULL,
    rejected         INTEGER NOT NULL,
    ack              BLOB    NOT NULL
) STRICT;
CREATE INDEX usage_uploads_sa ON usage_uploads (smart_account_id, id);

-- +goose Down
DROP TABLE usage_uploads;
DROP TABLE usage_marks;
DROP TABLE usage_reports;
ALTER TABLE instances DROP COLUMN usage_changed_at;
ALTER TABLE instances DROP COLUMN last_ack_at;
ALTER TABLE instances DROP COLUMN last_report_at;
ALTER TABLE instances DROP COLUMN first_use_at;
ALTER TABLE instances DROP COLUMN trusted_at;
ALTER TABLE instances DROP COLUMN trust_serial;
