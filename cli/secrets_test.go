package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/secretbox"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// writeKeyFile writes a fresh key file and returns its path.
func writeKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smartlic.key")
	if err := os.WriteFile(path, []byte(secretbox.NewKeyText()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runErr runs smartlic and returns its error and output.
func runErr(vars map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), args, &env{stdout: &out, stderr: &out, getenv: func(k string) string { return vars[k] }})
	return out.String(), err
}

// The README's first command on a new SQLite database makes a key file
// beside it, 0600, and says so; the database files are 0600 too. Later
// starts use that key; without it the server refuses to start rather than
// run without its signing key.
func TestServeSecretKeyFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "smartlic.db")
	_, banner := startServe(t, "--db", db, "--demo")
	if !strings.Contains(banner.String(), "secret key: created "+db+".key") {
		t.Fatalf("the banner does not tell about the new key file:\n%s", banner)
	}
	for _, f := range append(store.SQLiteFiles(db), db+".key") {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", f, fi.Mode().Perm(), err)
		}
	}
	_, banner = startServe(t, "--db", db)
	if strings.Contains(banner.String(), "secret key:") {
		t.Errorf("a second start reports a key change:\n%s", banner)
	}

	// Another key does not open the secrets, and nothing is left behind.
	os.Rename(db+".key", db+".key.bak")
	out, err := runErr(nil, "serve", "--db", db, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), db+".key") {
		t.Fatalf("serve without its key file: %v\n%s", err, out)
	}
	if _, err := os.Stat(db + ".key"); !os.IsNotExist(err) {
		t.Errorf("a stray key file was left: %v", err)
	}
	if _, err := runErr(nil, "serve", "--db", db, "--addr", "127.0.0.1:0", "--secret-key-file", writeKeyFile(t)); err == nil || !strings.Contains(err.Error(), "not in the key file") {
		t.Fatalf("serve with a wrong key file: %v", err)
	}
}

// A database in a directory that does not exist is refused naming the
// directory, before anything is written.
func TestServeNamesAMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := runErr(nil, "serve", "--db", filepath.Join(dir, "smartlic.db"), "--addr", "127.0.0.1:0")
	if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != "--db" || !strings.Contains(err.Error(), dir+" does not exist") {
		t.Fatalf("serve into a missing directory: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the refusal made the directory: %v", err)
	}
}

// PostgreSQL replicas must share a key file, so serve asks for one.
func TestServePostgresNeedsKeyFile(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	_, err := runErr(nil, "serve", "--db", dsn, "--addr", "127.0.0.1:0")
	if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != "--secret-key-file" {
		t.Fatalf("serve on PostgreSQL without a key file: %v", err)
	}
	key := writeKeyFile(t)
	_, banner := startServeLogging(t, &syncBuffer{}, "--db", dsn, "--secret-key-file", key)
	if !strings.Contains(banner.String(), "listening") {
		t.Fatalf("banner:\n%s", banner)
	}
	// The same key through the environment, as a second replica.
	if out, err := runErr(map[string]string{envSecretKeyFile: key}, "admin", "create-operator", "--db", dsn, "--email", "ops@example.com"); err != nil {
		t.Fatalf("create-operator with %s: %v\n%s", envSecretKeyFile, err, out)
	}
}

// A database an older smartlic wrote, secrets in the clear and readable
// by everyone: serve warns about the file and seals the secrets; a
// rotation re-seals them with a new key, after which only that key works.
func TestServeSealsOldDatabaseAndRotates(t *testing.T) {
	db := filepath.Join(t.TempDir(), "old.db")
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manager.New(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	oldKey := writeKeyFile(t)
	logs := &syncBuffer{}
	_, banner := startServeLogging(t, logs, "--db", db, "--secret-key-file", oldKey)
	if !regexp.MustCompile(`secret key: sealed 1 stored secrets with key [0-9a-f]{16}`).MatchString(banner.String()) {
		t.Errorf("banner does not report sealing the old secrets:\n%s", banner)
	}
	if !strings.Contains(logs.String(), "database file is readable by other users") || !strings.Contains(logs.String(), db) {
		t.Errorf("no warning about the readable database:\n%s", logs)
	}

	newKey := filepath.Join(t.TempDir(), "new.key")
	out := runWith(t, nil, "admin", "rotate-secret-key", "--db", db, "--old-key-file", oldKey, "--new-key-file", newKey)
	if !strings.Contains(out, "re-encrypted 1 secrets") {
		t.Fatalf("rotate-secret-key:\n%s", out)
	}
	if fi, err := os.Stat(newKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new key file: %v", err)
	}
	if _, err := runErr(nil, "admin", "create-operator", "--db", db, "--email", "a@example.com", "--secret-key-file", oldKey); err == nil {
		t.Fatal("the old key still opens the secrets after rotation")
	}
	if out, err := runErr(nil, "admin", "create-operator", "--db", db, "--email", "a@example.com", "--secret-key-file", newKey); err != nil {
		t.Fatalf("the new key: %v\n%s", err, out)
	}
}
