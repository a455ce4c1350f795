package store_test

import (
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestUsageUploadCountsMigration: uploads from before their list rows
// kept the duplicates and instances counts get them from the ACK file
// each kept, and one whose ACK file has no summary gets zeros.
func TestUsageUploadCountsMigration(t *testing.T) {
	t.Parallel()
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		// The last version before the counts: SQLite's 00023, PostgreSQL's
		// 00024.
		version, blob := int64(23), func(s string) string { return "CAST('" + s + "' AS BLOB)" }
		if strings.HasPrefix(dsn, "postgres") {
			version, blob = 24, func(s string) string { return "convert_to('" + s + "', 'UTF8')" }
		}
		err := store.MigrateTo(ctx, dsn, version,
			`INSERT INTO smart_accounts (id, name, domain, limited_use, status, created_at) VALUES ('sa1', 'Acme', 'acme.example', FALSE, 'active', 1)`,
			`INSERT INTO usage_uploads (id, smart_account_id, file_name, uploaded_by, uploaded_at, reports, accepted, rejected, ack) VALUES
				('u1', 'sa1', 'a.json', 'ana@acme.example', 1000000, 5, 4, 1, `+blob(`{"type":"smartlic.ack-file/v1","summary":{"reports":5,"accepted":4,"rejected":1,"duplicates":3,"instances":2}}`)+`),
				('u2', 'sa1', 'b.json', 'ana@acme.example', 2000000, 0, 0, 0, `+blob(`{}`)+`)`,
		)
		if err != nil {
			t.Fatal(err)
		}
		db := storetest.Open(t, dsn)
		err = db.Read(ctx, func(tx smartlic.Tx) error {
			list, err := tx.ListUsageUploads(ctx, "sa1", smartlic.Page{Limit: 10})
			if err != nil {
				return err
			}
			if len(list) != 2 {
				t.Fatalf("%d uploads after the migration, want 2", len(list))
			}
			want := []smartlic.UsageSummary{{Reports: 5, Accepted: 4, Rejected: 1, Duplicates: 3, Instances: 2}, {}}
			for i, u := range list {
				if u.Summary != want[i] {
					t.Errorf("%s: summary %+v, want %+v", u.ID, u.Summary, want[i])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
