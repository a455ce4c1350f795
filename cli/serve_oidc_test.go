package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic/internal/oidctest"
)

// serve with an OpenID provider from the environment, as a container
// would be configured: the sign-in page offers it, the redirect URI is
// derived from the listening address, and a person signs in.
func TestServeOIDC(t *testing.T) {
	idp := oidctest.New(t, "", oidctest.Options{})
	secret := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secret, []byte(idp.ClientSecret()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{envOIDCIssuer: idp.Issuer, envOIDCClientID: idp.ClientID(), envOIDCSecretFile: secret,
		envOIDCName: "Acme SSO", envOIDCAllowDomains: "acme.example,example.org"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	out := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "sso.db")}, &env{
			stdout: out, stderr: io.Discard, getenv: func(k string) string { return vars[k] }, ready: func(u string) { ready <- u }})
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	idp.SetRedirectURL(url + "/login/oidc/callback")
	idp.SignInAs(oidctest.Verified("sub-1", "jo@acme.example"))

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp, b.String()
	}
	if _, page := get(url + "/login"); !strings.Contains(page, "Sign in with Acme SSO") {
		t.Fatalf("sign-in page:\n%s", page)
	}
	// Redirects followed: to the provider, back to the callback, home.
	resp, page := get(url + "/login/oidc")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" || !strings.Contains(page, "You have no role in any Smart Account yet") {
		t.Fatalf("after signing in: %s at %s\n%s", resp.Status, resp.Request.URL, page)
	}
	// A domain not in the list is refused.
	idp.SignInAs(oidctest.Verified("sub-2", "jo@elsewhere.example"))
	jar2, _ := cookiejar.New(nil)
	c.Jar = jar2
	resp, page = get(url + "/login/oidc")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "may not sign in here") {
		t.Fatalf("other domain: %s\n%s", resp.Status, page)
	}
}

// Every mistake in the single sign-on flags stops serve before it listens,
// naming the flag (and the issuer when discovery fails).
func TestServeOIDCFlagErrors(t *testing.T) {
	idp := oidctest.New(t, "", oidctest.Options{})
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--oidc-client-id", "x"}, "--oidc-issuer: is required with --oidc-client-id"},
		{[]string{"--oidc-allowed-domains", "acme.example"}, "--oidc-issuer: is required with --oidc-allowed-domains"},
		{[]string{"--oidc-issuer", idp.Issuer}, "--oidc-client-id: is required"},
		{[]string{"--oidc-issuer", "http://idp.example.com", "--oidc-client-id", "x"}, "--oidc-issuer: must be the provider's https:// issuer URL"},
		{[]string{"--oidc-issuer", "http://127.0.0.1:1/realms/none", "--oidc-client-id", "x"}, "discovery of http://127.0.0.1:1/realms/none failed"},
		{[]string{"--oidc-issuer", idp.Issuer + "/other", "--oidc-client-id", "x"}, "discovery of " + idp.Issuer + "/other failed"},
		{[]string{"--oidc-issuer", idp.Issuer, "--oidc-client-id", "x", "--oidc-client-secret-file", filepath.Join(dir, "missing")}, "--oidc-client-secret-file: cannot read"},
		{[]string{"--oidc-issuer", idp.Issuer, "--oidc-client-id", "x", "--oidc-allowed-domains", "@"}, "--oidc-allowed-domains: must be e-mail domains"},
		{[]string{"--oidc-issuer", idp.Issuer, "--oidc-client-id", "x", "--oidc-redirect-url", "https://lic.example.com/callback"}, "--oidc-redirect-url: must end in /login/oidc/callback"},
		{[]string{"--public-url", "https://lic.example.com/portal"}, "--public-url: must be an http(s) URL with no path"},
	} {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "x.db")}, tc.args...)
		ctx, cancel := context.WithCancel(context.Background())
		err := run(ctx, args, &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" },
			ready: func(string) { t.Errorf("%v: serve started", tc.args); cancel() }})
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
