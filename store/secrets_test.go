package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/secretbox"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

var operator = smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@vendor.example", Role: smartlic.RoleOperator})

// storedSecrets reads the private_key and webhook secret columns as they
// are, by row id.
func storedSecrets(t *testing.T, dsn string) (keys, hooks map[string][]byte) {
	t.Helper()
	raw := storetest.OpenRaw(t, dsn)
	keys, hooks = map[string][]byte{}, map[string][]byte{}
	for q, out := range map[string]map[string][]byte{"SELECT id, private_key FROM signing_keys": keys, "SELECT id, secret FROM webhooks": hooks} {
		rows, err := raw.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			var b []byte
			if err := rows.Scan(&id, &b); err != nil {
				t.Fatal(err)
			}
			out[id] = b
		}
		rows.Close()
	}
	return keys, hooks
}

// setStoredSecret writes a webhook's secret column as it is.
func setStoredSecret(t *testing.T, dsn, id string, v []byte) {
	t.Helper()
	q := "UPDATE webhooks SET secret = ? WHERE id = ?"
	if strings.HasPrefix(dsn, "postgres") {
		q = "UPDATE webhooks SET secret = $1 WHERE id = $2"
	}
	if _, err := storetest.OpenRaw(t, dsn).ExecContext(t.Context(), q, string(v), id); err != nil {
		t.Fatal(err)
	}
}

func openWith(t *testing.T, dsn string, opts ...store.Option) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func ring(t *testing.T, keyFileText string) *secretbox.Keyring {
	t.Helper()
	r, err := secretbox.Parse([]byte(keyFileText))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// privateKeyOf returns the manager's current private signing key as the
// store hands it out.
func privateKeyOf(t *testing.T, db *store.DB) []byte {
	t.Helper()
	var keys []smartlic.SigningKey
	if err := db.Read(t.Context(), func(tx smartlic.Tx) error {
		var err error
		keys, err = tx.ListSigningKeys(t.Context())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("%d signing keys", len(keys))
	}
	return keys[0].PrivateKey
}

func webhookSecretOf(t *testing.T, db *store.DB, id string) string {
	t.Helper()
	var w smartlic.Webhook
	if err := db.Read(t.Context(), func(tx smartlic.Tx) error {
		var err error
		w, err = tx.GetWebhook(t.Context(), id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return w.Secret
}

// TestSecretsAtRest: with a key file, the private signing key and the
// webhook secrets are not in the database in the clear; a database an
// older smartlic left in the clear is sealed by SealSecrets; a rotation
// re-seals everything with the new key; without the key nothing opens.
func TestSecretsAtRest(t *testing.T) {
	t.Parallel()
	storetest.EachDSN(t, func(t *testing.T, dsn string) {

		// An older smartlic: no key, secrets in the clear.
		db := openWith(t, dsn)
		mgr, err := manager.New(t.Context(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mgr.CreateSmartAccount(operator, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example", Status: smartlic.SAActive}); err != nil {
			t.Fatal(err)
		}
		old, err := mgr.CreateWebhook(operator, "acme.example", smartlic.WebhookInput{URL: "https://hooks.acme.example/old"})
		if err != nil {
			t.Fatal(err)
		}
		priv := privateKeyOf(t, db)
		keys, hooks := storedSecrets(t, dsn)
		if len(keys) != 1 || string(hooks[old.ID]) != old.Secret {
			t.Fatal("the keyless store did not keep the secrets as they are (the migration below would prove nothing)")
		}
		for _, v := range keys {
			if !bytes.Equal(v, priv) {
				t.Fatal("the keyless store did not keep the private key as it is")
			}
		}
		db.Close()

		// First start with a key: everything is sealed, in one go.
		key1 := secretbox.NewKeyText()
		k1 := ring(t, key1)
		db = openWith(t, dsn, store.WithSecretKeys(k1))
		if n, err := db.SealSecrets(t.Context()); err != nil || n != 2 {
			t.Fatalf("SealSecrets = %d, %v; want 2 rows sealed", n, err)
		}
		if n, err := db.SealSecrets(t.Context()); err != nil || n != 0 {
			t.Fatalf("second SealSecrets = %d, %v; want nothing left", n, err)
		}
		mgr, err = manager.New(t.Context(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := mgr.CreateWebhook(operator, "acme.example", smartlic.WebhookInput{URL: "https://hooks.acme.example/new"})
		if err != nil {
			t.Fatal(err)
		}
		opens := func(db *store.DB) {
			t.Helper()
			if !bytes.Equal(privateKeyOf(t, db), priv) || webhookSecretOf(t, db, old.ID) != old.Secret || webhookSecretOf(t, db, fresh.ID) != fresh.Secret {
				t.Fatal("sealed secrets do not open to what was stored")
			}
		}
		sealedWith := func(k *secretbox.Keyring) map[string][]byte {
			t.Helper()
			keys, hooks := storedSecrets(t, dsn)
			if len(keys) != 1 || len(hooks) != 2 {
				t.Fatalf("%d keys, %d webhooks stored", len(keys), len(hooks))
			}
			for _, v := range []map[string][]byte{keys, hooks} {
				for id, v := range v {
					if bytes.Contains(v, priv) || bytes.Contains(v, priv[:32]) || bytes.Contains(v, []byte(old.Secret)) || bytes.Contains(v, []byte(fresh.Secret)) ||
						bytes.Contains(v, []byte("whsec_")) || secretbox.SealedWith(string(v)) != k.ID() {
						t.Fatalf("stored value of %s, %q, is not sealed with key %s", id, v, k.ID())
					}
				}
			}
			return hooks
		}
		opens(db)
		hooks = sealedWith(k1)
		db.Close()

		// Without the key, the secrets cannot be read, and the error says what to do.
		db = openWith(t, dsn)
		if _, err := manager.New(t.Context(), db, nil); err == nil || !strings.Contains(err.Error(), "--secret-key-file") {
			t.Fatalf("manager without the key: %v", err)
		}
		if err := db.Read(t.Context(), func(tx smartlic.Tx) error {
			_, err := tx.GetWebhook(t.Context(), old.ID)
			return err
		}); err == nil || !strings.Contains(err.Error(), "--secret-key-file") {
			t.Fatalf("webhook secret without the key: %v", err)
		}
		db.Close()

		// A sealed secret copied into another row does not open there.
		setStoredSecret(t, dsn, fresh.ID, hooks[old.ID])
		db = openWith(t, dsn, store.WithSecretKeys(k1))
		if err := db.Read(t.Context(), func(tx smartlic.Tx) error {
			_, err := tx.GetWebhook(t.Context(), fresh.ID)
			return err
		}); err == nil {
			t.Fatal("a sealed secret moved to another row opened")
		}
		db.Close()
		setStoredSecret(t, dsn, fresh.ID, hooks[fresh.ID])

		// Rotation: the new key first, the old one after it; one
		// transaction re-seals everything with the new key, after which
		// the new key alone opens everything and the old alone nothing.
		key2 := secretbox.NewKeyText()
		db = openWith(t, dsn, store.WithSecretKeys(ring(t, key2+key1)))
		if n, err := db.SealSecrets(t.Context()); err != nil || n != 3 {
			t.Fatalf("rotation SealSecrets = %d, %v; want 3 rows", n, err)
		}
		db.Close()
		k2 := ring(t, key2)
		sealedWith(k2)
		db = openWith(t, dsn, store.WithSecretKeys(k2))
		opens(db)
		db.Close()
		db = openWith(t, dsn, store.WithSecretKeys(k1))
		if _, err := manager.New(t.Context(), db, nil); err == nil {
			t.Fatal("the retired key still opens the signing key")
		}
		db.Close()
	})
}

// TestSQLiteFilesPrivate: a new SQLite database and its WAL and
// shared-memory files are readable by their owner only; an existing one
// readable by others is reported. Not parallel: it sets the process's
// umask to the common 022, under which the driver alone would create the
// files readable by everyone.
func TestSQLiteFilesPrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dsn := filepath.Join(t.TempDir(), "private.db")
	db := openWith(t, dsn)
	if _, err := manager.New(t.Context(), db, nil); err != nil { // writes, so the WAL exists
		t.Fatal(err)
	}
	for _, f := range store.SQLiteFiles(dsn) {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want -rw-------", f, fi.Mode().Perm())
		}
	}
	if got := store.ReadableByOthers(dsn); len(got) != 0 {
		t.Errorf("ReadableByOthers = %v on a new database", got)
	}
	db.Close()
	if err := os.Chmod(dsn, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := store.ReadableByOthers(dsn); len(got) != 1 || !strings.HasPrefix(got[0], dsn+" ") {
		t.Errorf("ReadableByOthers = %v, want the database file", got)
	}
	if got := store.ReadableByOthers("file:" + dsn + "?cache=private"); len(got) != 1 {
		t.Errorf("ReadableByOthers of a file: URI = %v", got)
	}
}
