package cli

import (
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
)

// TestPolicyCommands runs policy list, show, set, delete and history
// against a real server.
func TestPolicyCommands(t *testing.T) {
	h := newHarness(t)
	h.env["SMARTLIC_ACCOUNT"] = "acme.example"
	h.ok("account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
	h.ok("va", "create", "Lab")

	// Nothing custom: the default is in force, with its built-in values.
	out := h.ok("policy", "show", "--va", "Lab")
	if !strings.Contains(out, `Policy "Default Policy", version 1, in force for Lab, the vendor default`) {
		t.Fatalf("show:\n%s", out)
	}
	wantRow(t, out, "unenforced perpetual", "365 days", "none", "90 days", "yes")
	wantRow(t, out, "enforced", "none", "none", "none", "yes")

	// Set one class of the Lab's policy; the rest is the policy in force.
	out = h.ok("policy", "set", "--va", "Lab", "--class", "unenforced_subscription", "--first-report", "30", "--frequency", "60", "--after-change", "15", "--ack-required=false")
	wantRow(t, out, "unenforced subscription", "30 days", "60 days", "15 days", "no")
	wantRow(t, out, "unenforced perpetual", "365 days", "none", "90 days", "yes")
	var in smartlic.PolicyInForce
	h.json(&in, "policy", "show", "--va", "Lab")
	if in.Inherited || in.Policy.Name != "Lab policy" || in.Policy.Rules.UnenforcedSubscription.ReportingFrequencyDays != 60 {
		t.Fatalf("in force = %+v", in)
	}
	// A second edit keeps the first's change and makes version 2.
	h.ok("policy", "set", "--va", "Lab", "--name", "Lab reporting", "--class", "enforced", "--after-change", "7")
	var p smartlic.Policy
	h.json(&p, "policy", "set", "--va", "Lab", "--class", "enforced", "--ack-required")
	if p.Version != 3 || p.Name != "Lab reporting" || p.Rules.UnenforcedSubscription.FirstReportDays != 30 || p.Rules.Enforced.ReportAfterChangeDays != 7 {
		t.Fatalf("after edits: %+v", p)
	}
	out = h.ok("policy", "list")
	wantRow(t, out, "default", "-", "Default Policy", "1")
	wantRow(t, out, "virtual account", "Lab", "Lab reporting", "3")

	// Bad input names the flag; nothing is stored.
	h.fails(smartlic.EInvalid, "--class", "policy", "set", "--va", "Lab", "--class", "gold", "--frequency", "1")
	h.fails(smartlic.EInvalid, "--class", "policy", "set", "--va", "Lab", "--frequency", "1")
	h.fails(smartlic.EInvalid, "--first-report", "policy", "set", "--va", "Lab", "--class", "enforced", "--first-report", "100000")
	h.fails(smartlic.EInvalid, "--default", "policy", "show", "--va", "Lab", "--default")

	// Delete: the Lab inherits the default again; the history keeps all.
	h.ok("policy", "delete", "--va", "Lab")
	h.fails(smartlic.ENotFound, "", "policy", "delete", "--va", "Lab")
	out = h.ok("policy", "history", "--va", "Lab")
	wantRow(t, out, "4", "Lab reporting (deleted)")
	wantRow(t, out, "1", "Lab policy")
	var hist listJSON[smartlic.Policy]
	h.json(&hist, "policy", "history", "--va", "Lab", "--limit", "2")
	if len(hist.Items) != 2 || hist.Next != "3" {
		t.Fatalf("history page = %+v", hist)
	}

	// The operator edits and resets the default.
	h.ok("policy", "set", "--default", "--class", "unenforced_perpetual", "--first-report", "180")
	out = h.ok("policy", "show")
	wantRow(t, out, "unenforced perpetual", "180 days", "none", "90 days", "yes")
	out = h.ok("policy", "delete", "--default")
	if !strings.Contains(out, "version 3, the built-in default again") {
		t.Fatalf("reset:\n%s", out)
	}
}
