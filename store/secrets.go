package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/secretbox"
)

// Secrets at rest. The manager's private signing keys and the webhook
// signing secrets must be usable again, so they cannot be hashed like
// passwords and API keys; with a key ring (WithSecretKeys) they are sealed
// with AES-256-GCM before they reach the database, bound to their row, and
// opened when read. Without one they are stored as they are (library use
// and old databases); a sealed value then cannot be read.

// Option configures Open.
type Option func(*DB)

// WithSecretKeys seals the secrets the store writes with the ring's first
// key and opens those sealed with any of its keys. Call SealSecrets after
// Open to seal what an older smartlic (or a previous key) left.
func WithSecretKeys(r *secretbox.Keyring) Option {
	return func(db *DB) { db.secrets = r }
}

// errNoSecretKey says what to do when sealed secrets meet a store without keys.
var errNoSecretKey = errors.New("the database's secrets are encrypted at rest and no secret key was given: pass --secret-key-file or set SMARTLIC_SECRET_KEY_FILE")

func signingKeyContext(id string) string { return "signing_keys.private_key:" + id }
func webhookContext(id string) string    { return "webhooks.secret:" + id }

// sealPrivateKey returns what the private_key column stores.
func (db *DB) sealPrivateKey(id string, priv []byte) []byte {
	if db.secrets == nil {
		return priv
	}
	return []byte(db.secrets.Seal(priv, signingKeyContext(id)))
}

// privateKeySealed tells a sealed private_key from a raw Ed25519 key of
// an older database. 64 random bytes that happen to start like a sealed
// value ("sbx1:", 16 hex digits, ":") have odds of about 2^-112.
func privateKeySealed(b []byte) bool {
	return secretbox.IsSealed(string(b))
}

// openPrivateKey opens a stored private key. Without a key ring a sealed
// one reads as missing rather than failing: whoever only verifies (events
// verify --db) needs the public keys alone, and whoever signs (the
// manager) refuses a key without its private half.
func (db *DB) openPrivateKey(id string, stored []byte) ([]byte, error) {
	if !privateKeySealed(stored) {
		return stored, nil
	}
	if db.secrets == nil {
		return nil, nil
	}
	return db.secrets.Open(string(stored), signingKeyContext(id))
}

func (db *DB) sealWebhookSecret(id, secret string) string {
	if db.secrets == nil {
		return secret
	}
	return db.secrets.Seal([]byte(secret), webhookContext(id))
}

func (db *DB) openWebhookSecret(id, stored string) (string, error) {
	if !secretbox.IsSealed(stored) {
		return stored, nil
	}
	if db.secrets == nil {
		return "", errNoSecretKey
	}
	b, err := db.secrets.Open(stored, webhookContext(id))
	return string(b), err
}

// SealSecrets seals, in one transaction, every private signing key and
// webhook secret not yet sealed with the ring's first key: plaintext rows
// of an older database, and rows sealed with an older key of the ring (a
// rotation). It returns how many rows it rewrote; running it again
// rewrites none. A row sealed with a key not in the ring fails the whole
// transaction, so nothing is left half rotated.
func (db *DB) SealSecrets(ctx context.Context) (n int, err error) {
	if db.secrets == nil {
		return 0, errors.New("store: SealSecrets needs WithSecretKeys")
	}
	current := db.secrets.ID()
	err = db.Write(ctx, func(stx smartlic.Tx) error {
		t := stx.(*tx)
		n = 0
		type row struct {
			id  string
			val []byte
		}
		read := func(q string) ([]row, error) {
			rows, err := t.queryBuilt(ctx, q)
			return collect(rows, err, func(r scanner) (row, error) {
				var x row
				return x, r.Scan(&x.id, &x.val)
			}, "reading secrets to seal")
		}
		keys, err := read(`SELECT id, private_key FROM signing_keys`)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if privateKeySealed(k.val) && secretbox.SealedWith(string(k.val)) == current {
				continue
			}
			priv, err := db.openPrivateKey(k.id, k.val)
			if err != nil {
				return fmt.Errorf("signing key %s: %w", k.id, err)
			}
			if _, err := t.execBuilt(ctx, `UPDATE signing_keys SET private_key = ? WHERE id = ?`, db.sealPrivateKey(k.id, priv), k.id); err != nil {
				return smartlic.Internal(err, "sealing a signing key")
			}
			n++
		}
		hooks, err := read(`SELECT id, secret FROM webhooks`)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			if secretbox.SealedWith(string(h.val)) == current {
				continue
			}
			secret, err := db.openWebhookSecret(h.id, string(h.val))
			if err != nil {
				return fmt.Errorf("webhook %s: %w", h.id, err)
			}
			if _, err := t.execBuilt(ctx, `UPDATE webhooks SET secret = ? WHERE id = ?`, db.sealWebhookSecret(h.id, secret), h.id); err != nil {
				return smartlic.Internal(err, "sealing a webhook secret")
			}
			n++
		}
		return nil
	})
	return n, err
}

// SQLiteFiles returns the files of the SQLite database dsn names (the
// database, its WAL and shared-memory index), nil for PostgreSQL.
func SQLiteFiles(dsn string) []string {
	p := sqlitePath(dsn)
	if p == "" {
		return nil
	}
	return []string{p, p + "-wal", p + "-shm"}
}

// ReadableByOthers returns those of the SQLite database's files that exist
// and that users other than the owner may read: they hold the signing keys
// and webhook secrets (sealed, with a key file) and every account's data.
func ReadableByOthers(dsn string) []string {
	var out []string
	for _, f := range SQLiteFiles(dsn) {
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, fmt.Sprintf("%s (mode %v)", f, fi.Mode().Perm()))
		}
	}
	return out
}

// sqlitePath is the file a SQLite dsn names, "" for PostgreSQL.
func sqlitePath(dsn string) string {
	if isPostgresDSN(dsn) || dsn == "" {
		return ""
	}
	if !strings.HasPrefix(dsn, "file:") {
		return dsn
	}
	p, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if strings.HasPrefix(p, "//") { // file:///abs/path or file://localhost/abs/path
		if u, err := url.Parse("file:" + p); err == nil {
			return u.Path
		}
	}
	return p
}

// createPrivate creates a missing SQLite file readable by its owner only,
// before the driver opens it: the driver would create it 0644 (less the
// umask). SQLite gives the WAL and shared-memory files it creates the
// database file's mode, so they follow.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: creating %s: %w", path, err)
	}
	return f.Close()
}

// SecretKeys is the key ring the store seals with (nil without one): the
// portal seals its single sign-on state with it, since every replica has
// the same key file.
func (db *DB) SecretKeys() *secretbox.Keyring { return db.secrets }
