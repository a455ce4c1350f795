package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestPolicyInstancePage: an instance under Using Policy shows the
// compliance its last ACK gave, not a classic authorization ("Pending ·
// never asked") nor an ID certificate expiring in year 1; one moved from a
// registration does not keep showing its old "authorized" as current.
// Plain HTTP against the real server, on both stores.
func TestPolicyInstancePage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		db := open(t)
		p := newPortal(t, func(*testing.T) *store.DB { return db })
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		prod := must[smartlic.Product](t)(p.mgr.GetProduct(p.op, "C9300-24T"))
		lt := must[smartlic.LicenseType](t)(p.mgr.GetLicenseType(p.op, "network-advantage"))
		lab := must[smartlic.VirtualAccount](t)(p.mgr.GetVirtualAccount(p.op, sa.Domain, "Lab"))
		now := p.clock.Now()
		later := now.Add(60 * smartlic.Day)
		insert := func(inst smartlic.Instance) {
			t.Helper()
			id, _ := uuid.NewV7()
			inst.ID, inst.SmartAccountID, inst.VirtualAccountID, inst.ProductID = id.String(), sa.ID, lab.ID, prod.ID
			inst.RegisteredAt, inst.LastContactAt = now, now
			if err := db.Write(context.Background(), func(tx smartlic.Tx) error { return tx.InsertInstance(context.Background(), inst) }); err != nil {
				t.Fatal(err)
			}
		}
		// Trusted offline, reported and acknowledged: over its pool.
		insert(smartlic.Instance{UDI: smartlic.UDI{PID: "C9300-24T", SN: "POL1"}, Mode: smartlic.ModePolicy, TrustedAt: &now,
			FirstUseAt: &now, LastReportAt: &now, LastAckAt: &now,
			Usage: []smartlic.Usage{{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: 3, Status: smartlic.OutOfCompliance}}})
		// Moved from a registration, no report since: its classic
		// authorization and ID certificate are stale.
		insert(smartlic.Instance{UDI: smartlic.UDI{PID: "C9300-24T", SN: "MOV1"}, Mode: smartlic.ModePolicy, TrustedAt: &now,
			AuthorizedAt: &now, AuthExpiresAt: &later, IDCertExpiresAt: now.Add(365 * smartlic.Day),
			Usage: []smartlic.Usage{{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: 1, Status: smartlic.Authorized}}})

		c := newClient(t, p)
		c.signIn("admin@acme.example", testPassword)
		page := func(sn string) string {
			t.Helper()
			resp, body := c.do("GET", "/sa/acme.example/instances/C9300-24T:"+sn, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("instance %s: %s", sn, resp.Status)
			}
			for _, stale := range []string{"0001-01-01", "never asked", "ID certificate", "Authorization Pending", "Last authorization"} {
				if strings.Contains(body, stale) {
					t.Errorf("policy-mode instance %s page shows %q", sn, stale)
				}
			}
			return body
		}
		if body := page("POL1"); !strings.Contains(body, "<dt>Compliance</dt>") || !strings.Contains(body, "Out of compliance") || !strings.Contains(body, "as of the last ACK") {
			t.Errorf("POL1 page does not show the ACK's compliance:\n%s", body)
		}
		if body := page("MOV1"); !strings.Contains(body, "Not reported") || !strings.Contains(body, "no usage report acknowledged yet") || strings.Contains(body, ">Authorized<") {
			t.Errorf("MOV1 page shows a stale classic authorization:\n%s", body)
		}

		// The API: the derived state, and no year-1 ID certificate date.
		list, _, err := p.mgr.ListInstances(p.op, sa.Domain, "Lab", smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]smartlic.AuthorizationState{}
		for _, i := range list {
			got[i.UDI.SN] = i.Authorization
			raw, err := json.Marshal(i)
			if err != nil {
				t.Fatal(err)
			}
			if i.UDI.SN == "POL1" && strings.Contains(string(raw), "id_cert_expires_at") {
				t.Errorf("POL1 JSON carries a zero ID certificate date: %s", raw)
			}
		}
		if got["POL1"] != smartlic.AuthOOC || got["MOV1"] != smartlic.AuthNotReported {
			t.Errorf("authorization states %v, want POL1 out_of_compliance, MOV1 not_reported", got)
		}
	})
}
