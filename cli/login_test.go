package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestLoginLogoutWhoAmI is a customer user's first day with the CLI: the
// operator makes the account and the user, the user signs in with a
// password, works with the stored key, checks who it is, and signs out.
func TestLoginLogoutWhoAmI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newHarnessOn(t, open)
		h.ok("account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
		h.env["SMARTLIC_ACCOUNT"] = "acme.example"
		h.ok("va", "create", "Lab")
		const pw = "a long enough password"
		h.ok("user", "create", "--email", "ada@acme.example", "--name", "Ada", "--password", pw)
		h.ok("role", "grant", "--user", "ada@acme.example", "--role", "sa_user")
		h.ok("role", "grant", "--user", "ada@acme.example", "--role", "va_admin", "--va", "Lab")
		if out := h.ok("whoami"); !strings.Contains(out, "ops@example.com (the vendor operator, operator key)") {
			t.Errorf("operator whoami:\n%s", out)
		}
		delete(h.env, "SMARTLIC_API_KEY")

		// Before login: a clear way forward.
		if err := h.fails(smartlic.EInvalid, "--api-key", "whoami"); !strings.Contains(err.Error(), "smartlic login") {
			t.Errorf("no key error: %v", err)
		}
		// A wrong password stores nothing.
		h.stdin = "not the password\n"
		h.fails(smartlic.EUnauthorized, "", "login", "--email", "ada@acme.example", "--password-stdin")
		path := filepath.Join(h.env["SMARTLIC_CONFIG_DIR"], "credentials.json")
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("failed login left %s: %v", path, err)
		}
		h.fails(smartlic.EInvalid, "--email", "login", "--password-stdin")
		// An operator key is no password for the CLI: it says how to use it.
		h.stdin = "slk_whatever\n"
		if err := h.fails(smartlic.EInvalid, "password", "login", "--email", "ops@example.com", "--password-stdin"); !strings.Contains(err.Error(), "SMARTLIC_API_KEY") {
			t.Errorf("operator key at login: %v", err)
		}
		// Standard input is no terminal here, so the password is not asked for.
		// It does not blame --password-stdin, which was not given, but says to use it.
		h.stdin = "ada@acme.example\n"
		if err := h.fails(smartlic.EInvalid, "", "login"); !strings.Contains(err.Error(), "no terminal to prompt for the password: pipe it with --password-stdin") {
			t.Errorf("login without a terminal: %v", err)
		}

		h.stdin = pw + "\n"
		out := h.ok("login", "--email", "ADA@acme.example", "--password-stdin")
		if !strings.Contains(out, "as ada@acme.example") || !strings.Contains(out, path) {
			t.Errorf("login said:\n%s", out)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("credentials mode %04o, want 0600", st.Mode().Perm())
		}
		if dir, _ := os.Stat(filepath.Dir(path)); dir.Mode().Perm() != 0o700 {
			t.Errorf("credentials dir mode %04o, want 0700", dir.Mode().Perm())
		}
		var creds credentials
		b, _ := os.ReadFile(path)
		if err := json.Unmarshal(b, &creds); err != nil || !strings.HasPrefix(creds.APIKey, "slu_") || !strings.HasPrefix(creds.KeyName, "cli on ") {
			t.Fatalf("credentials %s: %v", b, err)
		}

		// Later commands use the stored key; whoami names accounts and roles.
		out = h.ok("whoami")
		if !strings.Contains(out, "ada@acme.example (user, personal API key)") || !strings.Contains(out, "sa_user, va_admin (Lab)") ||
			!strings.Contains(out, "Acme") {
			t.Errorf("whoami:\n%s", out)
		}
		var who whoAmI
		h.json(&who, "whoami")
		if len(who.Accounts) != 1 || who.Accounts[0].Domain != "acme.example" || len(who.Accounts[0].Roles) != 2 {
			t.Errorf("whoami json: %+v", who)
		}
		h.ok("va", "list")
		// The login's session is over: the key is what stays.
		var keys struct{ Items []smartlic.UserAPIKey }
		h.json(&keys, "apikey", "list")
		if len(keys.Items) != 1 || keys.Items[0].ID != creds.KeyID {
			t.Errorf("keys after login: %+v", keys.Items)
		}

		// The key goes to the server it was made for and no other.
		h.fails(smartlic.EInvalid, "--api-key", "whoami", "--server", "http://elsewhere.example")

		// A file others can read is refused, not used.
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := h.fails(smartlic.EForbidden, "", "whoami"); !strings.Contains(err.Error(), "read by others") {
			t.Errorf("readable file: %v", err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}

		// Logout revokes the key on the server and deletes the file.
		out = h.ok("logout")
		if !strings.Contains(out, "Revoked") {
			t.Errorf("logout said:\n%s", out)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("logout kept %s", path)
		}
		h.env["SMARTLIC_API_KEY"] = creds.APIKey
		h.fails(smartlic.EUnauthorized, "", "whoami")
		delete(h.env, "SMARTLIC_API_KEY")
		h.fails(smartlic.ENotFound, "", "logout")
	})
}
