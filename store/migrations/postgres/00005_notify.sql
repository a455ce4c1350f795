-- Alerts and notifications: which alerts were already raised (so an
-- immediate e-mail or webhook goes out once per condition), notification
-- preferences per (Smart Account, e-mail), webhooks and their delivery
-- queue, and the bookkeeping of periodic jobs. Lists of alert types and VA
-- ids are stored as comma-separated text: they are read whole, never
-- searched.
--
-- webhooks.secret is the raw signing secret, since signing needs it. The
-- database already holds the manager's private signing keys, so it is a
-- secret store either way: back it up and restrict it accordingly.

-- +goose Up
-- Alert computation reads the instances of a Smart Account whose
-- authorization or ID certificate runs out soon, through these two indexes
-- instead of scanning every instance.
CREATE INDEX instances_auth_expiry ON instances (smart_account_id, auth_expires_at);
CREATE INDEX instances_cert_expiry ON instances (smart_account_id, id_cert_expires_at);

CREATE TABLE alert_states (
    sa_id     TEXT COLLATE "C"   NOT NULL REFERENCES smart_accounts (id),
    alert_key TEXT COLLATE "C"   NOT NULL,
    type      TEXT    NOT NULL,
    raised_at BIGINT  NOT NULL,
    PRIMARY KEY (sa_id, alert_key)
);

CREATE TABLE notification_preferences (
    id           TEXT COLLATE "C"   NOT NULL PRIMARY KEY,
    sa_id        TEXT COLLATE "C"   NOT NULL REFERENCES smart_accounts (id),
    email        TEXT    NOT NULL,
    alert_types  TEXT    NOT NULL,
    va_ids       TEXT    NOT NULL,
    frequency    TEXT    NOT NULL,
    last_sent_at BIGINT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    UNIQUE (sa_id, email)
);
CREATE INDEX notification_preferences_due ON notification_preferences (frequency, last_sent_at);

CREATE TABLE webhooks (
    id          TEXT COLLATE "C"   NOT NULL PRIMARY KEY,
    sa_id       TEXT COLLATE "C"   NOT NULL REFERENCES smart_accounts (id),
    url         TEXT    NOT NULL,
    description TEXT    NOT NULL,
    alert_types TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX webhooks_sa ON webhooks (sa_id, id);

-- next_attempt_at is NULL once a delivery succeeded or gave up, so the
-- queue index holds pending deliveries only in effect.
CREATE TABLE webhook_deliveries (
    id              TEXT COLLATE "C"   NOT NULL PRIMARY KEY,
    webhook_id      TEXT COLLATE "C"   NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL,
    last_attempt_at BIGINT,
    last_status     BIGINT  NOT NULL,
    last_error      TEXT    NOT NULL,
    next_attempt_at BIGINT,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);

CREATE TABLE job_runs (
    name        TEXT COLLATE "C"   NOT NULL PRIMARY KEY,
    last_run_at BIGINT  NOT NULL,
    next_run_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE job_runs;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE notification_preferences;
DROP TABLE alert_states;
DROP INDEX instances_cert_expiry;
DROP INDEX instances_auth_expiry;
