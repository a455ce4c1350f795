package cli

import (
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
