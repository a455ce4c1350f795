package store_test

import (
	"context"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestVANamesMigration: a database from before Virtual Account names
// ignored case may hold "Lab", "lab" and "LAB" in one Smart Account. The
// migration keeps the oldest name and renames the later ones in creation
// order; ids, and so everything that refers to them, stay.
func TestVANamesMigration(t *testing.T) {
	t.Parallel()
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		err := store.MigrateTo(ctx, dsn, 6,
			`INSERT INTO smart_accounts (id, name, domain, limited_use, status, created_at) VALUES
				('sa1', 'Acme', 'acme.example', FALSE, 'active', 1),
				('sa2', 'Beta', 'beta.example', FALSE, 'active', 1)`,
			`INSERT INTO virtual_accounts (id, smart_account_id, parent_id, name, description, depth, created_at) VALUES
				('va-def', 'sa1', NULL, 'DEFAULT', '', 1, 1),
				('va-lab', 'sa1', NULL, 'Lab', '', 1, 10),
				('va-lab3', 'sa1', NULL, 'LAB', '', 1, 30),
				('va-lab2', 'sa1', NULL, 'lab', '', 1, 20),
				('va-b', 'sa1', NULL, 'default', '', 1, 5),
				('va-a', 'sa1', NULL, 'Default', '', 1, 5),
				('va-ok', 'sa1', 'va-lab', 'Lab Bench', '', 2, 40),
				('va-other', 'sa2', NULL, 'lab', '', 1, 2)`,
		)
		if err != nil {
			t.Fatal(err)
		}
		db := storetest.Open(t, dsn)
		want := map[string]string{
			"va-def": "DEFAULT", "va-a": "Default (2)", "va-b": "default (3)", // same time: by id
			"va-lab": "Lab", "va-lab2": "lab (2)", "va-lab3": "LAB (3)",
			"va-ok": "Lab Bench",
		}
		err = db.Read(ctx, func(tx smartlic.Tx) error {
			all, err := tx.AllVirtualAccounts(ctx, "sa1")
			if err != nil {
				return err
			}
			if len(all) != len(want) {
				t.Errorf("Virtual Accounts after the migration: %+v", all)
			}
			for _, va := range all {
				if va.Name != want[va.ID] {
					t.Errorf("%s is named %q, want %q", va.ID, va.Name, want[va.ID])
				}
			}
			other, err := tx.GetVirtualAccount(ctx, "sa2", "LAB")
			if err != nil || other.ID != "va-other" || other.Name != "lab" {
				t.Errorf("other Smart Account's VA = %+v, %v; want va-other still named lab", other, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// The index now holds: a new "lab" is refused.
		err = db.Write(ctx, func(tx smartlic.Tx) error {
			return tx.InsertVirtualAccount(context.Background(), smartlic.VirtualAccount{ID: "va-new", SmartAccountID: "sa1", Name: "LaB", Depth: 1})
		})
		if smartlic.ErrorCode(err) != smartlic.EConflict {
			t.Errorf("inserting LaB after the migration: %v, want conflict", err)
		}
	})
}
