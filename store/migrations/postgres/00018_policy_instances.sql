-- Overdue state under Using Policy is computed over a Smart Account's
-- instances in policy mode (store.PolicyInstances).

-- +goose Up
CREATE INDEX instances_mode ON instances (smart_account_id, mode, id);

-- +goose Down
DROP INDEX instances_mode;
