package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
)

// testVirtualAccountNamesIgnoreCase: Virtual Account names are unique in a
// Smart Account whatever the case of their ASCII letters, and a lookup by
// name finds the VA in any case (smartlic.VANameKey).
func testVirtualAccountNamesIgnoreCase(t *testing.T, f *fixture) {
	sa, def := f.account("example.com")
	lab := f.virtualAccount(sa, nil, "Lab")
	other, _ := f.account("other.example")

	for _, name := range []string{"lab", "LAB", "lAb", "default", "Default"} {
		dup := smartlic.VirtualAccount{ID: newID(t), SmartAccountID: sa.ID, Name: name, Depth: 1, CreatedAt: f.now}
		err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertVirtualAccount(ctx, dup) })
		wantCode(t, err, smartlic.EConflict, "name")
		if !strings.Contains(err.Error(), "case") {
			t.Errorf("conflict on %q does not say names ignore case: %v", name, err)
		}
	}

	// Renaming onto another VA's name in another case is the same conflict.
	eng := f.virtualAccount(sa, nil, "Engineering")
	renamed := eng
	renamed.Name = "LAB"
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, renamed) })
	wantCode(t, err, smartlic.EConflict, "name")
	// A VA may change the case of its own name.
	renamed.Name = "ENGINEERING"
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, renamed) })

	// Another Smart Account may use the name in any case.
	f.virtualAccount(other, nil, "lab")

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		for key, want := range map[string]smartlic.VirtualAccount{
			"lab": lab, "LAB": lab, "Lab": lab, "default": def, "DEFAULT": def, "engineering": renamed,
		} {
			got, err := tx.GetVirtualAccount(ctx, sa.ID, key)
			if err != nil {
				return err
			}
			wantEqual(t, "looked up as "+key, got, want)
		}
		return nil
	})

	// Only A-Z fold, on both stores alike: other letters compare exactly.
	f.virtualAccount(sa, nil, "Ärzte")
	f.virtualAccount(sa, nil, "ärzte")
}
