package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/smartlic/smartlic"
)

// serve --webhook-allow-cidr opens a named range to webhooks, and only it.
func TestServeWebhookAllowCIDR(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hooks.db")
	url, banner := startServe(t, "--db", db, "--demo", "--webhook-allow-cidr", "127.0.0.1/32", "--webhook-allow-cidr", "fd12::/16")
	key := regexp.MustCompile(`slk_[A-Za-z0-9_-]{43}`).FindString(banner.String())
	vars := map[string]string{"SMARTLIC_SERVER": url, "SMARTLIC_API_KEY": key, "SMARTLIC_ACCOUNT": demoDomain}
	runWith(t, vars, "webhook", "create", "--url", "http://127.0.0.1:9/in")
	runWith(t, vars, "webhook", "create", "--url", "http://[fd12::1]/in")
	err := run(context.Background(), []string{"webhook", "create", "--url", "http://10.0.0.1/in"},
		&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(k string) string { return vars[k] }})
	if smartlic.ErrorCode(err) != smartlic.EInvalid {
		t.Fatalf("webhook to 10.0.0.1 outside the allowed ranges: %v", err)
	}

	err = run(context.Background(), []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--webhook-allow-cidr", "10.0.0.0/33"},
		&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }})
	if smartlic.ErrorCode(err) != smartlic.EInvalid {
		t.Fatalf("serve with a bad range: %v", err)
	}
}
