package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/secretbox"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// admin rotate-key adds a key that signs from then on, gives the old one
// its retirement time, keeps the new private half encrypted at rest, and
// refuses bad flags without touching the database; on both stores.
func TestAdminRotateKey(t *testing.T) {
	for name, dsnOf := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteDSN, "postgres": storetest.PostgresDSN} {
		t.Run(name, func(t *testing.T) {
			dsn, key := dsnOf(t), writeKeyFile(t)
			runWith(t, nil, "admin", "create-operator", "--db", dsn, "--email", "ops@example.com", "--secret-key-file", key)
			keys := func() []smartlic.SigningKey {
				ring, err := secretbox.Load(key)
				if err != nil {
					t.Fatal(err)
				}
				st, err := store.Open(t.Context(), dsn, store.WithSecretKeys(ring))
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				var ks []smartlic.SigningKey
				err = st.Read(t.Context(), func(tx smartlic.Tx) error {
					ks, err = tx.ListSigningKeys(t.Context())
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return ks
			}
			old := keys()
			if len(old) != 1 {
				t.Fatalf("a new database has %d signing keys, want 1", len(old))
			}

			for _, bad := range [][]string{
				{"admin", "rotate-key", "--db", dsn, "--secret-key-file", key, "--grace", "-1h"},
				{"admin", "rotate-key", "--secret-key-file", key},
				{"admin", "rotate-key", "--db", dsn, "--secret-key-file", key, "-o", "yaml"},
			} {
				out, err := runErr(nil, bad...)
				if smartlic.ErrorCode(err) != smartlic.EInvalid {
					t.Fatalf("smartlic %s: %v (want invalid_argument)\n%s", strings.Join(bad, " "), err, out)
				}
			}
			if got := keys(); len(got) != 1 {
				t.Fatalf("refused rotations left %d keys", len(got))
			}

			before := time.Now()
			out := runWith(t, nil, "admin", "rotate-key", "--db", dsn, "--secret-key-file", key, "--grace", "2h", "-o", "json")
			var res struct {
				Kid     string    `json:"kid"`
				Retires time.Time `json:"old_keys_retire_at"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("rotate-key -o json: %v\n%s", err, out)
			}
			if d := res.Retires.Sub(before); d < 2*time.Hour || d > 2*time.Hour+time.Minute {
				t.Fatalf("old keys retire at %s, want about 2h after %s", res.Retires, before)
			}
			got := keys()
			if len(got) != 2 {
				t.Fatalf("after rotating: %d keys, want 2", len(got))
			}
			for _, k := range got {
				switch k.ID {
				case old[0].ID:
					if k.RetiresAt == nil || !k.RetiresAt.Equal(res.Retires) {
						t.Fatalf("old key retires at %v, want %s", k.RetiresAt, res.Retires)
					}
				case res.Kid:
					if k.RetiresAt != nil || len(k.PrivateKey) != 64 {
						t.Fatalf("new key: retires %v, private key %d bytes", k.RetiresAt, len(k.PrivateKey))
					}
					var raw []byte
					if err := storetest.OpenRaw(t, dsn).QueryRowContext(t.Context(), rebindRaw(dsn, "SELECT private_key FROM signing_keys WHERE id = ?"), k.ID).Scan(&raw); err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(raw, k.PrivateKey) || bytes.Contains(raw, k.PrivateKey[:32]) {
						t.Fatal("the new private key is stored in the clear")
					}
				default:
					t.Fatalf("unexpected key %s", k.ID)
				}
			}

			// The table output names the key; the old one keeps its earlier
			// retirement when a later rotation has a longer grace.
			out = runWith(t, nil, "admin", "rotate-key", "--db", dsn, "--secret-key-file", key)
			if !strings.Contains(out, "signs from now on") {
				t.Fatalf("rotate-key table output:\n%s", out)
			}
			for _, k := range keys() {
				if k.ID == old[0].ID && !k.RetiresAt.Equal(res.Retires) {
					t.Fatalf("a second rotation moved the first key's retirement to %v", k.RetiresAt)
				}
			}
		})
	}
}

// rebindRaw turns ? placeholders into PostgreSQL's $n for OpenRaw.
func rebindRaw(dsn, q string) string {
	if !strings.HasPrefix(dsn, "postgres") {
		return q
	}
	return strings.Replace(q, "?", "$1", 1)
}
