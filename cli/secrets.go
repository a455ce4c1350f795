package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/secretbox"
	"github.com/smartlic/smartlic/store"
)

// envSecretKeyFile names the key file when --secret-key-file is not given.
const envSecretKeyFile = "SMARTLIC_SECRET_KEY_FILE"

// defaultKeySuffix names the key file generated beside a SQLite database.
const defaultKeySuffix = ".key"

func addSecretKeyFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "secret-key-file", "", "key file that encrypts signing keys and webhook secrets at rest (env "+envSecretKeyFile+"; SQLite default: the database path + "+defaultKeySuffix+", created if missing)")
}

// secretKeys finds the key ring of the database dsn: --secret-key-file,
// else $SMARTLIC_SECRET_KEY_FILE, else, for SQLite, the file beside the
// database, generated when missing. PostgreSQL has no such default: its
// replicas must share one key, which no replica can make up on its own.
// It returns the ring, its path, and whether it was generated now.
func secretKeys(e *env, dsn, flag string) (*secretbox.Keyring, string, bool, error) {
	field, path := "--secret-key-file", flag
	if path == "" {
		field, path = envSecretKeyFile, e.getenv(envSecretKeyFile)
	}
	if path != "" {
		r, err := secretbox.Load(path)
		if err != nil {
			return nil, path, false, smartlic.Invalid(field, "cannot read the key file: %v", err)
		}
		return r, path, false, nil
	}
	files := store.SQLiteFiles(dsn)
	if files == nil {
		return nil, "", false, smartlic.Invalid("--secret-key-file", "is required with PostgreSQL (or set %s): every replica needs the same key file; make one with `head -c 32 /dev/urandom | base64 > smartlic.key && chmod 600 smartlic.key`", envSecretKeyFile)
	}
	if dir := filepath.Dir(files[0]); !isDir(dir) {
		return nil, "", false, smartlic.Invalid("--db", "the directory %s does not exist: create it (mkdir -p %s) or put the database elsewhere", dir, dir)
	}
	path = files[0] + defaultKeySuffix
	r, err := secretbox.Load(path)
	if err == nil {
		return r, path, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, path, false, smartlic.Invalid("--secret-key-file", "cannot read the key file: %v", err)
	}
	if r, err = secretbox.Generate(path); err != nil {
		return nil, path, false, smartlic.Invalid("--secret-key-file", "cannot create a key file: %v", err)
	}
	return r, path, true, nil
}

// openStore opens the database with its secret key ring and seals what is
// not yet sealed with the ring's first key (secrets an older smartlic left
// in the clear, or sealed with a previous key), telling say about it.
func openStore(ctx context.Context, e *env, dsn, keyFlag string, say func(format string, args ...any)) (*store.DB, error) {
	ring, path, generated, err := secretKeys(e, dsn, keyFlag)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, dsn, store.WithSecretKeys(ring))
	if err != nil {
		return nil, err
	}
	n, err := st.SealSecrets(ctx)
	if err != nil {
		st.Close()
		if generated {
			// A fresh key cannot open secrets sealed with another: the
			// right key file has gone missing. Leave no stray key behind.
			os.Remove(path)
			return nil, fmt.Errorf("the database's secrets are sealed with a key that is not in a key file here (expected %s; or pass --secret-key-file): %w", path, err)
		}
		return nil, err
	}
	if generated {
		say("secret key: created %s (mode 0600); it encrypts the signing keys and webhook secrets at rest. Back it up apart from the database: without it they cannot be read.", path)
	} else if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		say("warning: secret key file %s is readable by other users (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	if n > 0 {
		say("secret key: sealed %d stored secrets with key %s", n, ring.ID())
	}
	return st, nil
}

func newRotateSecretKeyCmd(e *env) *cobra.Command {
	var dsn, oldFile, newFile string
	cmd := &cobra.Command{
		Use:   "rotate-secret-key",
		Short: "Re-encrypt the signing keys and webhook secrets with a new secret key",
		Long: `Re-encrypt, in one transaction, every signing key and webhook secret
with the key in --new-key-file (created if missing). --old-key-file is the
key they are sealed with now (default: as serve finds it). Afterwards give
every server the new key file; the old key no longer opens anything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dsn == "" {
				return smartlic.Invalid("--db", "is required: an SQLite file path or postgres:// URL")
			}
			if newFile == "" {
				return smartlic.Invalid("--new-key-file", "is required")
			}
			old, _, generated, err := secretKeys(e, dsn, oldFile)
			if err != nil {
				return err
			}
			if generated {
				return smartlic.Invalid("--old-key-file", "is required: no key file was found for this database")
			}
			next, err := secretbox.Load(newFile)
			if errors.Is(err, fs.ErrNotExist) {
				next, err = secretbox.Generate(newFile)
			}
			if err != nil {
				return smartlic.Invalid("--new-key-file", "%v", err)
			}
			ring, err := secretbox.Join(next, old)
			if err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), dsn, store.WithSecretKeys(ring))
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.SealSecrets(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "re-encrypted %d secrets with key %s from %s\nnow start every server with --secret-key-file %s (or move it to where the old key file was)\n", n, next.ID(), newFile, newFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dsn, "db", "", "SQLite file path or postgres:// URL")
	cmd.Flags().StringVar(&oldFile, "old-key-file", "", "key file the secrets are sealed with now (default: --secret-key-file's default)")
	cmd.Flags().StringVar(&newFile, "new-key-file", "", "key file to seal them with (created, mode 0600, if missing)")
	return cmd
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
