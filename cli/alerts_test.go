package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/notify/smtptest"
)

// TestAlertCommands runs alert, notify and webhook against a real server.
func TestAlertCommands(t *testing.T) {
	h := newHarness(t)
	h.env["SMARTLIC_ACCOUNT"] = "acme.example"
	ctx := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
	if _, err := h.mgr.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "network-advantage", Name: "NA", Term: smartlic.TermSubscription}); err != nil {
		t.Fatal(err)
	}
	h.ok("account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
	end := h.clock.Now().Add(20 * smartlic.Day).Format(time.DateOnly)
	h.ok("deposit", "create", "--order", "PO-1", "--license", "network-advantage", "--quantity", "2", "--ends", end)

	out := h.ok("alert", "list")
	wantRow(t, out, "critical", "license.expiring_30", "DEFAULT", "network-advantage")
	var alerts listJSON[smartlic.Alert]
	h.json(&alerts, "alert", "list", "--va", "DEFAULT")
	if len(alerts.Items) != 1 || alerts.Items[0].Type != smartlic.AlertExpiring30 {
		t.Fatalf("alerts = %+v", alerts)
	}

	out = h.ok("notify", "set", "ops@acme.example", "--frequency", "weekly", "--type", "license.expired", "--type", "license.expiring_30", "--va", "DEFAULT")
	if !strings.Contains(out, "ops@acme.example") || !strings.Contains(out, "weekly") {
		t.Fatalf("notify set:\n%s", out)
	}
	h.fails(smartlic.EInvalid, "--type", "notify", "set", "ops@acme.example", "--type", "license.bogus")
	out = h.ok("notify", "list")
	wantRow(t, out, "ops@acme.example", "weekly", "license.expired,license.expiring_30")
	h.ok("notify", "delete", "ops@acme.example")
	h.fails(smartlic.ENotFound, "", "notify", "delete", "ops@acme.example")

	out = h.ok("webhook", "create", "--url", "https://hooks.acme.example/in", "--description", "pager")
	if !strings.Contains(out, "secret: whsec_") {
		t.Fatalf("webhook create shows no secret:\n%s", out)
	}
	var hooks listJSON[smartlic.Webhook]
	h.json(&hooks, "webhook", "list")
	if len(hooks.Items) != 1 || hooks.Items[0].Secret != "" {
		t.Fatalf("webhooks = %+v", hooks)
	}
	id := hooks.Items[0].ID
	out = h.ok("webhook", "deliveries", id)
	if !strings.HasPrefix(out, "CREATED") {
		t.Fatalf("deliveries:\n%s", out)
	}
	h.ok("webhook", "delete", id)
	h.fails(smartlic.ENotFound, "", "webhook", "delete", id)
}

// TestServeSMTPFlags checks the mail flags before the server starts, and
// that the password, read from a file, shows up nowhere.
func TestServeSMTPFlags(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "smtp-password")
	if err := os.WriteFile(pwFile, []byte("hunter2-very-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "s.db")
	for _, tc := range []struct {
		field string
		args  []string
	}{
		{"--smtp-from", []string{"--smtp-host", "mail.example"}},
		{"--smtp-host", []string{"--smtp-from", "a@b.example"}},
		{"--smtp-starttls", []string{"--smtp-host", "mail.example", "--smtp-from", "a@b.example", "--smtp-starttls", "sometimes"}},
		{"--smtp-password-file", []string{"--smtp-host", "mail.example", "--smtp-from", "a@b.example", "--smtp-username", "u"}},
		{"--smtp-password-file", []string{"--smtp-host", "mail.example", "--smtp-from", "a@b.example", "--smtp-username", "u", "--smtp-password-file", filepath.Join(dir, "missing")}},
		{"--smtp-port", []string{"--smtp-host", "mail.example", "--smtp-from", "a@b.example", "--smtp-port", "70000"}},
	} {
		var out, errOut syncBuffer
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, tc.args...), &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
		if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != tc.field {
			t.Errorf("serve %v: %v (field %q), want invalid %s", tc.args, err, smartlic.ErrorField(err), tc.field)
		}
	}

	srv, err := smtptest.Start(smtptest.Options{Users: map[string]string{"smartlic": "hunter2-very-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, port := srv.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--smtp-host", host, "--smtp-port", itoa(port),
			"--smtp-starttls", "none", "--smtp-username", "smartlic", "--smtp-password-file", pwFile, "--smtp-from", "licensing@vendor.example"},
			&env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }, ready: func(u string) { ready <- u }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, errOut.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	logs := errOut.String() + out.String()
	if !strings.Contains(logs, "notification e-mail on") || strings.Contains(logs, "hunter2") {
		t.Fatalf("server output:\n%s", logs)
	}
}

func itoa(n int) string { return fmtInt(int64(n)) }
