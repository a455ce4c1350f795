-- An administrator may cancel a SLAC whose device is lost or destroyed: the
-- SLAC is closed without the device's return proof, with a reason for the
-- event log. status gains 'cancelled', returned (how it left) gains
-- 'cancelled', and cancel_reason keeps the administrator's words. Existing
-- rows satisfy the wider checks; PostgreSQL validates them when the
-- constraint is added.

-- +goose Up
ALTER TABLE slacs DROP CONSTRAINT slacs_status_check;
ALTER TABLE slacs ADD CONSTRAINT slacs_status_check CHECK (status IN ('active', 'returned', 'cancelled'));
ALTER TABLE slacs DROP CONSTRAINT slacs_returned_check;
ALTER TABLE slacs ADD CONSTRAINT slacs_returned_check CHECK (returned IN ('online', 'offline', 'cancelled'));
ALTER TABLE slacs ADD COLUMN cancel_reason TEXT;

-- +goose Down
-- Cancelled SLACs read as returned (their license is back in the pool
-- either way); the reason is dropped with its column.
UPDATE slacs SET status = 'returned' WHERE status = 'cancelled';
UPDATE slacs SET returned = 'offline' WHERE returned = 'cancelled';
ALTER TABLE slacs DROP COLUMN cancel_reason;
ALTER TABLE slacs DROP CONSTRAINT slacs_returned_check;
ALTER TABLE slacs ADD CONSTRAINT slacs_returned_check CHECK (returned IN ('online', 'offline'));
ALTER TABLE slacs DROP CONSTRAINT slacs_status_check;
ALTER TABLE slacs ADD CONSTRAINT slacs_status_check CHECK (status IN ('active', 'returned'));
