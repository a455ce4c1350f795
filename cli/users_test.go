package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
)

// TestUserCommands drives users, roles, access requests, API keys and
// OAuth clients through the CLI against a real server, switching API keys
// the way different people would.
func TestUserCommands(t *testing.T) {
	h := newHarness(t)
	operator := h.env["SMARTLIC_API_KEY"]
	h.ok("account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.example"
	h.ok("va", "create", "Engineering")

	const pw = "a long enough password"
	h.fails(smartlic.EInvalid, "--password", "user", "create", "--email", "x@acme.example", "--name", "X", "--password", "short")
	var admin smartlic.User
	h.json(&admin, "user", "create", "--email", "Admin@Acme.example", "--name", "Ada Admin", "--password", pw)
	if admin.Email != "admin@acme.example" {
		t.Fatalf("created %+v", admin)
	}
	h.ok("role", "grant", "--user", "admin@acme.example", "--role", "sa_admin")
	h.fails(smartlic.EInvalid, "--role", "role", "grant", "--user", "admin@acme.example", "--role", "king")
	if got := row(t, h.ok("user", "list"), "admin@acme.example"); got[1] != "Ada Admin" {
		t.Errorf("user list row %v", got)
	}

	// The admin signs in with a personal key made for it.
	login, err := h.mgr.Login(t.Context(), "admin@acme.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	actor, _, err := h.mgr.AuthenticateSession(t.Context(), login.Secret)
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.mgr.CreateAPIKey(smartlic.WithActor(t.Context(), actor), smartlic.APIKeyInput{Name: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	h.env["SMARTLIC_API_KEY"] = k.Secret
	if out := h.ok("user", "whoami"); !strings.Contains(out, "admin@acme.example") || !strings.Contains(out, "sa_admin") {
		t.Errorf("whoami:\n%s", out)
	}
	out := h.ok("apikey", "create", "--name", "ci", "--expires-days", "30")
	if !strings.Contains(out, "slu_") {
		t.Errorf("apikey create shows no secret:\n%s", out)
	}
	var keys struct{ Items []smartlic.UserAPIKey }
	h.json(&keys, "apikey", "list")
	if len(keys.Items) != 2 {
		t.Fatalf("apikey list: %+v", keys.Items)
	}
	for _, item := range keys.Items {
		if item.Secret != "" {
			t.Errorf("apikey list shows a secret")
		}
	}

	// The admin cannot set anyone's password; it invites a VA admin, who
	// accepts with the code (no API key needed) and its own password.
	h.fails(smartlic.EForbidden, "", "user", "create", "--email", "va@acme.example", "--name", "Vic", "--password", pw)
	if out := h.ok("user", "invite", "--email", "va@acme.example", "--role", "va_user", "--va", "Engineering"); !strings.Contains(out, "sli_") {
		t.Errorf("user invite shows no code:\n%s", out)
	}
	var inv smartlic.Invitation
	h.json(&inv, "user", "invite", "--email", "va@acme.example", "--role", "va_admin", "--va", "Engineering")
	h.env["SMARTLIC_API_KEY"] = ""
	var grant smartlic.RoleAssignment
	h.json(&grant, "invitation", "accept", "--code", inv.Code, "--name", "Vic", "--password", pw)
	h.fails(smartlic.EUnauthorized, "--code", "invitation", "accept", "--code", inv.Code, "--password", pw)
	h.env["SMARTLIC_API_KEY"] = k.Secret
	var invs struct{ Items []smartlic.Invitation }
	h.json(&invs, "invitation", "list")
	if len(invs.Items) != 2 || invs.Items[0].State != smartlic.InvitationPending || invs.Items[1].State != smartlic.InvitationAccepted {
		t.Errorf("invitation list: %+v", invs.Items)
	}
	// The table names the VA as people do, not by its id.
	if r := row(t, h.ok("invitation", "list"), "va@acme.example"); r[2] != "Engineering" || invs.Items[0].VirtualAccount != "Engineering" {
		t.Errorf("invitation list row %q (json %+v), want the VA's name Engineering", r, invs.Items[0])
	}
	if inv.VirtualAccount != "Engineering" {
		t.Errorf("user invite -o json = %+v, want virtual_account Engineering", inv)
	}
	if revoked := row(t, h.ok("invitation", "revoke", invs.Items[0].ID), "va@acme.example"); !slices.Contains(revoked, "revoked") {
		t.Errorf("invitation revoke row %v", revoked)
	}
	if r := row(t, h.ok("role", "list", "--va", "Engineering"), "va@acme.example"); r[1] != "va_admin" || r[2] != "Engineering" {
		t.Errorf("role list --va = %q, want the va_admin grant on Engineering (by name)", r)
	}
	if grant.VirtualAccount != "Engineering" {
		t.Errorf("invitation accept -o json = %+v, want virtual_account Engineering", grant)
	}
	h.env["SMARTLIC_API_KEY"] = operator
	h.ok("user", "create", "--email", "jane@acme.example", "--name", "Jane", "--password", pw)
	h.env["SMARTLIC_API_KEY"] = k.Secret

	// Jane asks for access; the admin approves with a VA role.
	login, _ = h.mgr.Login(t.Context(), "jane@acme.example", pw)
	actor, _, _ = h.mgr.AuthenticateSession(t.Context(), login.Secret)
	jk, _ := h.mgr.CreateAPIKey(smartlic.WithActor(t.Context(), actor), smartlic.APIKeyInput{Name: "jane"})
	h.env["SMARTLIC_API_KEY"] = jk.Secret
	var req smartlic.AccessRequest
	h.json(&req, "access", "request", "--message", "I run the lab")
	h.fails(smartlic.EForbidden, "", "role", "grant", "--user", "jane@acme.example", "--role", "sa_admin")
	h.fails(smartlic.EForbidden, "", "access", "list")
	h.env["SMARTLIC_API_KEY"] = k.Secret
	if row(t, h.ok("access", "list"), "jane@acme.example")[1] != "pending" {
		t.Error("access list lacks the request")
	}
	var approved smartlic.AccessRequest
	h.json(&approved, "access", "approve", req.ID, "--role", "va_user", "--va", "Engineering")
	if approved.Status != smartlic.AccessApproved {
		t.Errorf("approved = %+v", approved)
	}
	h.env["SMARTLIC_API_KEY"] = jk.Secret
	h.ok("license", "list", "--va", "Engineering")
	h.env["SMARTLIC_API_KEY"] = k.Secret

	// OAuth clients of the account.
	out = h.ok("oauth-client", "create", "--name", "erp", "--scopes", "read,write")
	if !strings.Contains(out, "slcs_") {
		t.Errorf("oauth-client create shows no secret:\n%s", out)
	}
	var clients struct{ Items []smartlic.OAuthClient }
	h.json(&clients, "oauth-client", "list")
	if len(clients.Items) != 1 || clients.Items[0].Role != smartlic.RoleSAUser {
		t.Fatalf("oauth-client list: %+v", clients.Items)
	}
	h.ok("oauth-client", "revoke", clients.Items[0].ID)
	h.fails(smartlic.EForbidden, "", "oauth-client", "create", "--vendor", "--name", "sneaky")

	// Revoking the role and the key.
	h.ok("role", "revoke", grant.ID)
	h.ok("apikey", "revoke", keys.Items[1].ID)

	// Only the operator disables users.
	h.fails(smartlic.EForbidden, "", "user", "disable", "jane@acme.example")
	h.env["SMARTLIC_API_KEY"] = operator
	var disabled smartlic.User
	h.json(&disabled, "user", "disable", "jane@acme.example")
	if !disabled.Disabled {
		t.Errorf("disable: %+v", disabled)
	}
	h.env["SMARTLIC_API_KEY"] = jk.Secret
	h.fails(smartlic.EUnauthorized, "", "user", "whoami")
}
