package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// reserve makes the manager reserve lines for the device's request code and
// installs the authorization code on it.
func (m *exportManager) reserve(t *testing.T, d *agent.Agent, lines ...smartlic.LicenseRequest) {
	t.Helper()
	if err := d.EnableReservation(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	req, err := d.RequestReservation()
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.mgr.CreateReservation(m.op, exportSA, smartlic.ReservationInput{RequestCode: req, Licenses: lines})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.InstallReservation(r.AuthorizationCode); err != nil {
		t.Fatal(err)
	}
}

// TestEnforcedByReservation: an enforced license on an unregistered,
// air-gapped product is refused until a reservation covering it is
// installed; then it runs up to the reserved count, and the summary says
// the reservation allows it. A reservation of other licenses allows
// nothing of this one.
func TestEnforcedByReservation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 1)
		d := m.device(t, "RES1", "")
		wantCode(t, d.SetUsage("dna-advantage", 1), smartlic.EForbidden)

		m.reserve(t, d, smartlic.LicenseRequest{Tag: "dna-advantage", Quantity: 1})
		if err := d.SetUsage("dna-advantage", 1); err != nil {
			t.Fatalf("enforced with a reservation of 1: %v", err)
		}
		if dec := d.Decide("dna-advantage", 1); !dec.Allowed || !strings.Contains(dec.Reason, "1 reserved") {
			t.Fatalf("decision: %+v", dec)
		}
		err := d.SetUsage("dna-advantage", 2)
		wantCode(t, err, smartlic.EForbidden)
		if !strings.Contains(smartlic.ErrorMessage(err), "1 reserved") {
			t.Fatalf("refusal over the reservation: %v", err)
		}
		if l := license(t, d.Status(), "dna-advantage"); l.Count != 1 || !l.Decision.Allowed || l.Status != agent.LicenseReserved {
			t.Fatalf("summary: %+v", l)
		}

		// A reservation of another license covers nothing of this one.
		other := m.device(t, "RES2", "")
		m.reserve(t, other, smartlic.LicenseRequest{Tag: "network-advantage", Quantity: 1})
		err = other.SetUsage("dna-advantage", 1)
		wantCode(t, err, smartlic.EForbidden)
		if !strings.Contains(smartlic.ErrorMessage(err), "does not include it") {
			t.Fatalf("refusal: %v", err)
		}
	})
}

// TestEnforcedByPolicy: under Smart Licensing Using Policy an enforced
// license runs once the manager's trust code is installed, is reported,
// and is refused when the manager's ACK answers it not authorized.
func TestEnforcedByPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 1)
		ctx := t.Context()
		newPolicy := func(sn string) *agent.Agent {
			a, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: agent.MemoryState(), UDI: smartlic.UDI{PID: "ISR4451", SN: sn}, Mode: agent.ModePolicy})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.ConfigureProduct(exportProduct); err != nil {
				t.Fatal(err)
			}
			return a
		}
		p1 := newPolicy("POL1")
		err := p1.SetUsage("dna-advantage", 1)
		wantCode(t, err, smartlic.EForbidden)
		if !strings.Contains(smartlic.ErrorMessage(err), "trust code") {
			t.Fatalf("refusal before trust: %v", err)
		}
		if err := p1.EstablishTrust(ctx, m.plain, false); err != nil {
			t.Fatal(err)
		}
		if err := p1.SetUsage("dna-advantage", 1); err != nil {
			t.Fatalf("enforced under policy with trust: %v", err)
		}
		if dec := p1.Decide("dna-advantage", 1); !dec.Allowed || !strings.Contains(dec.Reason, "authorized by policy") {
			t.Fatalf("decision: %+v", dec)
		}
		m.clock.Advance(time.Hour)
		if _, err := p1.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if p := m.pool(t, "dna-advantage"); p.InUse != 1 {
			t.Fatalf("pool after the report: %+v", p)
		}
		if dec := p1.Decide("dna-advantage", 1); !dec.Allowed || !strings.Contains(dec.Reason, "ACK of") {
			t.Fatalf("decision after the ACK: %+v", dec)
		}
		// Export-controlled stays a SLAC's business under policy too.
		wantCode(t, p1.SetUsage("hseck9", 1), smartlic.EExportControl)
	})
}

// TestRestrictedPolicyLicensesWithCodes: a policy-mode product that
// restricts licenses to installed authorization codes uses an enforced one
// once a reservation covers it, and an export-controlled one once a SLAC
// installed from an offline authorization code does.
func TestRestrictedPolicyLicensesWithCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 1)
		if _, err := m.mgr.SetExportControl(m.op, exportSA, true); err != nil {
			t.Fatal(err)
		}
		d, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: agent.MemoryState(), UDI: smartlic.UDI{PID: "ISR4451", SN: "RST1"}, Mode: agent.ModePolicy,
			Restricted: map[string]smartlic.LicenseClass{"dna-advantage": smartlic.ClassEnforced, "hseck9": smartlic.ClassExportControlled}})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, d.SetUsage("dna-advantage", 1), agent.EAuthorizationRequired)
		wantCode(t, d.SetUsage("hseck9", 1), agent.EAuthorizationRequired)

		m.reserve(t, d, smartlic.LicenseRequest{Tag: "dna-advantage", Quantity: 1})
		if err := d.SetUsage("dna-advantage", 1); err != nil {
			t.Fatalf("restricted enforced with a reservation: %v", err)
		}
		wantCode(t, d.SetUsage("dna-advantage", 2), agent.EAuthorizationRequired)

		code, err := d.RequestSLACCode("hseck9")
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.mgr.IssueSLAC(m.op, exportSA, smartlic.SLACIssueInput{RequestCode: code, LicenseTag: "hseck9"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.InstallSLAC(s.AuthorizationCode); err != nil {
			t.Fatal(err)
		}
		if err := d.SetUsage("hseck9", 1); err != nil {
			t.Fatalf("restricted export-controlled with a SLAC: %v", err)
		}
		if p := m.pool(t, "hseck9"); p.InUse != 1 {
			t.Fatalf("pool with the offline SLAC: %+v", p)
		}
	})
}
