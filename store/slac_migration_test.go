package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestSLACCancelMigration: the SLACs of a database from before SLACs could
// be cancelled survive the migration that widens the slacs table's checks
// (on SQLite a rebuild of the table): every row reads back as it was, the
// one-active-SLAC-per-device index still holds, and an active one can then
// be cancelled.
func TestSLACCancelMigration(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteDSN, "postgres": storetest.PostgresDSN} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn := dsn(t)
			ctx := t.Context()
			doc := `X'7b7d'` // {}
			if name == "postgres" {
				doc = `'\x7b7d'::bytea`
			}
			err := store.MigrateTo(ctx, dsn, 20,
				`INSERT INTO smart_accounts (id, name, domain, limited_use, status, created_at) VALUES ('sa1', 'Acme', 'acme.example', FALSE, 'active', 1)`,
				`INSERT INTO virtual_accounts (id, smart_account_id, parent_id, name, description, depth, created_at) VALUES ('va1', 'sa1', NULL, 'DEFAULT', '', 1, 1)`,
				`INSERT INTO license_types (id, tag, name, description, term, enforcement, created_at) VALUES
					('lt1', 'hseck9', 'HSEC', '', 'perpetual', 'export_controlled', 1),
					('lt2', 'sec-100g', 'SEC', '', 'perpetual', 'export_controlled', 1)`,
				`INSERT INTO slacs (id, sa_id, va_id, license_type_id, tag, pid, sn, instance_id, status, requested,
					request_nonce, return_hash, issued_at, returned_at, returned, document) VALUES
					('s1', 'sa1', 'va1', 'lt1', 'hseck9', 'ISR4451', 'A1', 'inst1', 'active', 'online', 'n1', 'h1', 1000000, NULL, NULL, `+doc+`),
					('s2', 'sa1', 'va1', 'lt1', 'hseck9', 'ISR4451', 'A2', NULL, 'returned', 'offline', 'n2', 'h2', 2000000, 3000000, 'offline', `+doc+`),
					('s3', 'sa1', 'va1', 'lt2', 'sec-100g', 'ISR4451', 'A1', 'inst1', 'returned', 'online', 'n3', 'h3', 4000000, 5000000, 'online', `+doc+`)`,
			)
			if err != nil {
				t.Fatal(err)
			}
			db := storetest.Open(t, dsn)
			sec := func(n int64) *time.Time { at := time.UnixMicro(n * 1000000).UTC(); return &at }
			want := map[string]smartlic.SLAC{
				"s1": {ID: "s1", InstanceID: "inst1", Status: smartlic.SLACActive, Requested: smartlic.SLACOnline, RequestNonce: "n1", ReturnHash: "h1",
					UDI: smartlic.UDI{PID: "ISR4451", SN: "A1"}, LicenseTypeID: "lt1", LicenseTag: "hseck9", IssuedAt: *sec(1)},
				"s2": {ID: "s2", Status: smartlic.SLACReturned, Requested: smartlic.SLACOffline, RequestNonce: "n2", ReturnHash: "h2",
					UDI: smartlic.UDI{PID: "ISR4451", SN: "A2"}, LicenseTypeID: "lt1", LicenseTag: "hseck9", IssuedAt: *sec(2), ReturnedAt: sec(3), Returned: smartlic.SLACOffline},
				"s3": {ID: "s3", InstanceID: "inst1", Status: smartlic.SLACReturned, Requested: smartlic.SLACOnline, RequestNonce: "n3", ReturnHash: "h3",
					UDI: smartlic.UDI{PID: "ISR4451", SN: "A1"}, LicenseTypeID: "lt2", LicenseTag: "sec-100g", IssuedAt: *sec(4), ReturnedAt: sec(5), Returned: smartlic.SLACOnline},
			}
			err = db.Read(ctx, func(tx smartlic.Tx) error {
				all, err := tx.ListSLACs(ctx, "sa1", nil, nil, "", smartlic.Page{Limit: 10})
				if err != nil {
					return err
				}
				if len(all) != len(want) {
					t.Fatalf("SLACs after the migration: %+v", all)
				}
				for _, got := range all {
					w := want[got.ID]
					w.SmartAccountID, w.VirtualAccountID, w.VirtualAccount = "sa1", "va1", "DEFAULT"
					got.Document = smartlic.Envelope{}
					if got.IssuedAt.Equal(w.IssuedAt) {
						got.IssuedAt = w.IssuedAt
					}
					if got.ReturnedAt != nil && w.ReturnedAt != nil && got.ReturnedAt.Equal(*w.ReturnedAt) {
						got.ReturnedAt = w.ReturnedAt
					}
					if !reflect.DeepEqual(got, w) {
						t.Errorf("%s after the migration:\n got  %+v\n want %+v", got.ID, got, w)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The partial unique index came back with the table.
			err = db.Write(ctx, func(tx smartlic.Tx) error {
				return tx.InsertSLAC(ctx, smartlic.SLAC{ID: "s4", SmartAccountID: "sa1", VirtualAccountID: "va1", LicenseTypeID: "lt1", LicenseTag: "hseck9",
					UDI: smartlic.UDI{PID: "ISR4451", SN: "A1"}, Status: smartlic.SLACActive, Requested: smartlic.SLACOnline, RequestNonce: "n4", ReturnHash: "h4",
					IssuedAt: time.Unix(6, 0), Document: smartlic.Envelope{Type: "t"}})
			})
			if smartlic.ErrorCode(err) != smartlic.EConflict {
				t.Fatalf("a second active SLAC for the device and license after the migration: %v", err)
			}
			err = db.Write(ctx, func(tx smartlic.Tx) error {
				ok, err := tx.CancelSLAC(ctx, "s1", time.Unix(7, 0), "lost")
				if !ok && err == nil {
					t.Fatal("the migrated active SLAC could not be cancelled")
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// The checks still refuse what is neither of the known values.
			raw := storetest.OpenRaw(t, dsn)
			if _, err := raw.ExecContext(context.Background(), `UPDATE slacs SET status = 'lost' WHERE id = 's2'`); err == nil {
				t.Fatal("the status check accepted 'lost'")
			}
			if _, err := raw.ExecContext(context.Background(), `UPDATE slacs SET returned = 'stolen' WHERE id = 's2'`); err == nil {
				t.Fatal("the returned check accepted 'stolen'")
			}
		})
	}
}
