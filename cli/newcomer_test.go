package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestNoVASaysWhere: without --va a write lands in DEFAULT and says so; an
// instance's id and UDI are unique, so get and remove find it in whichever
// VA holds it; an empty DEFAULT points at the whole account.
func TestNoVASaysWhere(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("account", "create", "--name", "Beta", "--domain", "beta.com", "--approve")
		h.ok("va", "create", "Lab")

		out := h.ok("token", "create", "--description", "x")
		if !strings.Contains(out, `Virtual Account "DEFAULT"`) {
			t.Errorf("token create without --va does not name DEFAULT:\n%s", out)
		}
		out = h.ok("deposit", "create", "--order", "SO-1", "--license", "network-essentials", "--quantity", "1")
		if !strings.Contains(out, `Virtual Account "DEFAULT"`) {
			t.Errorf("deposit create without --va does not name DEFAULT:\n%s", out)
		}
		out = h.ok("token", "create", "--va", "Lab", "--description", "lab")
		if !strings.Contains(out, `Virtual Account "Lab"`) {
			t.Errorf("token create --va Lab does not name Lab:\n%s", out)
		}

		_, stderr, err := h.run("instance", "list")
		if err != nil || !strings.Contains(stderr, "smartlic report instances") || !strings.Contains(stderr, `"DEFAULT"`) {
			t.Errorf("empty instance list without --va: err %v, stderr:\n%s", err, stderr)
		}
		if _, stderr, _ := h.run("instance", "list", "--va", "Lab"); stderr != "" {
			t.Errorf("instance list --va Lab hints:\n%s", stderr)
		}

		h.device(tokenSecret(t, out), "FOC2301A001", smartlic.Usage{LicenseTag: "network-essentials", Count: 1})
		var inst smartlic.Instance
		h.json(&inst, "instance", "get", "C9300-24T:FOC2301A001")
		wantRow(t, h.ok("instance", "get", inst.ID), "C9300-24T:FOC2301A001", "sw-foc2301a001")
		err = h.fails(smartlic.ENotFound, anyField, "instance", "get", inst.ID, "--va", "DEFAULT")
		if !strings.Contains(err.Error(), "DEFAULT") {
			t.Errorf("not found with --va DEFAULT does not name the VA: %v", err)
		}
		// Another Smart Account does not see it, by id or by UDI.
		h.fails(smartlic.ENotFound, anyField, "instance", "get", inst.ID, "--account", "beta.com")
		h.fails(smartlic.ENotFound, anyField, "instance", "remove", "C9300-24T:FOC2301A001", "--account", "beta.com")

		h.ok("instance", "remove", "C9300-24T:FOC2301A001")
		h.fails(smartlic.ENotFound, anyField, "instance", "get", inst.ID)
	})
}

// TestLoginAgainRevokesThePreviousKey: logging in again (as another user,
// without logout) revokes the key the file held, names keys so they can be
// told apart, and a stored key that stopped working says to log in.
func TestLoginAgainRevokesThePreviousKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newHarnessOn(t, open)
		h.ok("account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
		h.env["SMARTLIC_ACCOUNT"] = "acme.example"
		const pw = "a long enough password"
		for _, u := range []string{"ada@acme.example", "bob@acme.example"} {
			h.ok("user", "create", "--email", u, "--name", u, "--password", pw)
			h.ok("role", "grant", "--user", u, "--role", "sa_user")
		}
		operatorKey := h.env["SMARTLIC_API_KEY"]
		delete(h.env, "SMARTLIC_API_KEY")
		path := filepath.Join(h.env["SMARTLIC_CONFIG_DIR"], "credentials.json")
		stored := func() credentials {
			t.Helper()
			var c credentials
			b, err := os.ReadFile(path)
			if err != nil || json.Unmarshal(b, &c) != nil {
				t.Fatalf("credentials %s: %v", b, err)
			}
			return c
		}

		h.stdin = pw + "\n"
		h.ok("login", "--email", "ada@acme.example", "--password-stdin")
		ada := stored()
		if !regexp.MustCompile(`^cli on .+, \d{4}-\d\d-\d\d \d\d:\d\d UTC$`).MatchString(ada.KeyName) {
			t.Errorf("key name %q carries no date", ada.KeyName)
		}

		h.stdin = pw + "\n"
		_, stderr, err := h.run("login", "--email", "bob@acme.example", "--password-stdin")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr, "Revoked the API key") || !strings.Contains(stderr, "ada@acme.example") {
			t.Errorf("second login does not say it revoked ada's key:\n%s", stderr)
		}
		h.env["SMARTLIC_API_KEY"] = ada.APIKey
		h.fails(smartlic.EUnauthorized, anyField, "whoami")
		delete(h.env, "SMARTLIC_API_KEY")
		bob := stored()
		if out := h.ok("whoami"); !strings.Contains(out, "bob@acme.example") {
			t.Errorf("whoami after the second login:\n%s", out)
		}

		// Bob's key is revoked behind the CLI's back: the error says which
		// key and what to do.
		h.env["SMARTLIC_API_KEY"] = operatorKey
		h.ok("user", "disable", "bob@acme.example")
		delete(h.env, "SMARTLIC_API_KEY")
		err = h.fails(smartlic.EUnauthorized, anyField, "whoami")
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "no longer works") || !strings.Contains(msg, "smartlic login") {
			t.Errorf("stale stored key: %v", err)
		}
		h.fails(smartlic.EUnauthorized, anyField, "va", "list")

		// A login over a key that no longer works still succeeds, and says so.
		h.stdin = pw + "\n"
		_, stderr, err = h.run("login", "--email", "ada@acme.example", "--password-stdin")
		if err != nil || !strings.Contains(stderr, "no longer worked") || !strings.Contains(stderr, bob.KeyName) {
			t.Errorf("login over a dead key: %v\n%s", err, stderr)
		}
	})
}

// TestRefusedInputExitsTwoWithASuggestion: an unknown command, verb or flag
// is refused input (exit 2) and cobra's nearest name is suggested.
func TestRefusedInputExitsTwoWithASuggestion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"licence", "list"}, `did you mean "license"`},
		{[]string{"license", "lst"}, `did you mean "list"`},
		{[]string{"license", "list", "--vaa", "Lab"}, "did you mean --va?"},
		{[]string{"token", "create", "--descripton", "x"}, "did you mean --description?"},
		{[]string{"serve", "--dbb", "x"}, "did you mean --db?"},
		{[]string{"admin", "create-operatorr"}, `did you mean "create-operator"`},
	} {
		_, _, err := h.run(c.args...)
		if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("smartlic %s: exit %d, %v; want exit 2 with %q", strings.Join(c.args, " "), ExitCode(err), err, c.want)
		}
	}
	// Help shows where the key goes, not a placeholder.
	out := h.ok("login", "--help")
	if strings.Contains(out, "CONFIG_DIR/") || !strings.Contains(out, filepath.Join(h.env["SMARTLIC_CONFIG_DIR"], "credentials.json")) {
		t.Errorf("login --help:\n%s", out)
	}
}

// TestErrorsNameTheFlags: an error names the flags the user typed, in its
// field and in its message, not the API's fields.
func TestErrorsNameTheFlags(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		err := h.fails(smartlic.EInvalid, "--ends", "deposit", "create", "--order", "SO-1", "--license", "network-advantage",
			"--quantity", "1", "--starts", "2030-01-02", "--ends", "2030-01-01")
		if !strings.Contains(err.Error(), "must be after --starts") || strings.Contains(err.Error(), "starts_at") {
			t.Errorf("ends before starts: %v", err)
		}
		err = h.fails(smartlic.ENotFound, "--account", "va", "list", "--account", "acme.exmple")
		if !strings.Contains(err.Error(), `"acme.exmple"`) {
			t.Errorf("mistyped account: %v", err)
		}
		h.fails(smartlic.ENotFound, "--account", "token", "list", "--account", "acme.exmple")
	})
}

// TestVAUserWithoutVA: a user whose only role is in VA Lab gets Lab when
// giving no --va (said on stderr), learnt from its roles before the
// command runs: the server refuses nothing and sees each command once.
// With roles in two VAs, the one refusal names them and --va.
func TestVAUserWithoutVA(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("va", "create", "Lab")
		h.ok("va", "create", "Lab Sub", "--parent", "Lab")
		h.ok("va", "create", "Eng")
		var sub smartlic.Token
		h.json(&sub, "token", "create", "--description", "sub", "--va", "Lab Sub")
		h.ok("account", "create", "--name", "Beta", "--domain", "beta.com", "--approve")
		h.ok("va", "create", "Beta Lab", "--account", "beta.com")
		const pw = "a long enough password"
		h.ok("user", "create", "--email", "lab@acme.com", "--name", "Lab", "--password", pw)
		h.ok("role", "grant", "--user", "lab@acme.com", "--role", "va_user", "--va", "Lab")
		// A role in another account's VA is no candidate here.
		h.ok("role", "grant", "--user", "lab@acme.com", "--role", "va_user", "--va", "Beta Lab", "--account", "beta.com")
		operatorKey := h.env["SMARTLIC_API_KEY"]
		delete(h.env, "SMARTLIC_API_KEY")
		h.stdin = pw + "\n"
		h.ok("login", "--email", "lab@acme.com", "--password-stdin")

		requests := h.requests.Load()
		out, stderr, err := h.run("token", "create", "--description", "x")
		if err != nil || !strings.Contains(out, `Virtual Account "Lab"`) || !strings.Contains(stderr, `Using Virtual Account "Lab"`) {
			t.Fatalf("token create as a Lab user without --va: %v\n%s\n%s", err, out, stderr)
		}
		// whoami, the account (named by its domain), the create.
		if n := h.requests.Load() - requests; n != 3 {
			t.Errorf("token create sent %d requests, want 3 (whoami, the account, the create)", n)
		}
		wantRow(t, h.ok("token", "list"), "x", "active")
		h.ok("license", "list")
		h.ok("instance", "list")
		// A verb that finds an id in any VA the user may see still does:
		// Lab's default is no --va given.
		h.ok("token", "get", sub.ID)
		if n := h.refused.Load(); n != 0 {
			t.Fatalf("the server refused %d requests of the Lab user's commands without --va", n)
		}
		// --va given is obeyed, not replaced.
		h.fails(smartlic.EForbidden, anyField, "token", "list", "--va", "DEFAULT")

		h.env["SMARTLIC_API_KEY"] = operatorKey
		h.ok("role", "grant", "--user", "lab@acme.com", "--role", "va_user", "--va", "Eng")
		delete(h.env, "SMARTLIC_API_KEY")
		refused := h.refused.Load()
		err = h.fails(smartlic.EForbidden, anyField, "token", "list")
		if msg := err.Error(); !strings.Contains(msg, "--va") || !strings.Contains(msg, "Lab") || !strings.Contains(msg, "Eng") || strings.Contains(msg, "Beta Lab") {
			t.Errorf("two VAs without --va: %v", err)
		}
		if n := h.refused.Load() - refused; n != 1 {
			t.Errorf("%d refused requests for token list with two VAs, want 1", n)
		}
	})
}
