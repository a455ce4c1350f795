-- Smart Licensing Using Policy: the same shape as the SQLite migration;
-- keys are COLLATE "C" as in 00001.

-- +goose Up
ALTER TABLE instances ADD COLUMN trust_serial TEXT COLLATE "C";
ALTER TABLE instances ADD COLUMN trusted_at BIGINT;
ALTER TABLE instances ADD COLUMN first_use_at BIGINT;
ALTER TABLE instances ADD COLUMN last_report_at BIGINT;
ALTER TABLE instances ADD COLUMN last_ack_at BIGINT;
ALTER TABLE instances ADD COLUMN usage_changed_at BIGINT;

CREATE TABLE usage_reports (
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    report_id   TEXT COLLATE "C" NOT NULL,
    hash        TEXT COLLATE "C" NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (instance_id, report_id)
);

CREATE TABLE usage_marks (
    instance_id    TEXT COLLATE "C" NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    tag            TEXT COLLATE "C" NOT NULL,
    measured_until BIGINT NOT NULL,
    count          BIGINT NOT NULL,
    PRIMARY KEY (instance_id, tag)
);

CREATE TABLE usage_uploads (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    smart_account_id TEXT COLLATE "C" NOT NULL REFERENCES smart_accounts (id) ON DELETE CASCADE,
    file_name        TEXT   NOT NULL,
    uploaded_by      TEXT   NOT NULL,
    uploaded_at      BIGINT NOT NULL,
    reports          BIGINT NOT NULL,
    accepted         BIGINT NOT NULL,
    rejected         BIGINT NOT NULL,
    ack              BYTEA  NOT NULL
);
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
