package agent_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestRefusedUsageDropped is the newcomer's stuck device: in evaluation it
// used a typo tag and a license the product may not consume, then
// registered. The manager refuses each of those lines; the agent drops
// them one by one (saying why) instead of sending them again with every
// request, so the rest is authorized and a later change goes through.
func TestRefusedUsageDropped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		m := newExportManager(t, open(t), 1)
		ctx := t.Context()
		// Sold, but not consumable by the ISR4451.
		if _, err := m.mgr.CreateLicenseType(m.op, smartlic.LicenseType{Tag: "threat-defense", Name: "TD", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}); err != nil {
			t.Fatal(err)
		}
		d := m.device(t, "FTX0001", "")
		for tag, n := range map[string]int64{"network-advantge": 1, "threat-defense": 1, "network-advantage": 1} {
			if err := d.SetUsage(tag, n); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Register(ctx, m.plain, false); err != nil {
			t.Fatal(err)
		}
		if err := d.Authorize(ctx); err != nil {
			t.Fatalf("authorize with refused lines: %v", err)
		}
		st := d.Status()
		if st.Authorization == nil || st.Authorization.Status != smartlic.AuthValid {
			t.Fatalf("authorization %+v, want authorized", st.Authorization)
		}
		if len(st.Licenses) != 1 || st.Licenses[0].Tag != "network-advantage" || st.Licenses[0].Status != agent.LicenseAuthorized {
			t.Fatalf("licenses %+v, want network-advantage authorized only", st.Licenses)
		}
		if len(st.DroppedUsage) != 2 {
			t.Fatalf("dropped %+v, want the typo and threat-defense", st.DroppedUsage)
		}
		for i, tag := range []string{"network-advantge", "threat-defense"} {
			dr := st.DroppedUsage[i]
			if dr.LicenseTag != tag || dr.Count != 1 || !strings.Contains(dr.Reason, `"`+tag+`"`) {
				t.Errorf("drop %d: %+v, want %s with the manager's reason", i, dr, tag)
			}
		}
		if got := m.pool(t, "network-advantage").InUse; got != 1 {
			t.Fatalf("network-advantage in use %d, want 1", got)
		}
		// Nothing is stuck: lowering to 0 is authorized, and the record of
		// the drops goes with the next authorization.
		if err := d.SetUsage("network-advantage", 0); err != nil {
			t.Fatal(err)
		}
		if err := d.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		st = d.Status()
		if len(st.Licenses) != 0 || len(st.DroppedUsage) != 0 || st.Authorization.Status != smartlic.AuthValid {
			t.Fatalf("after lowering: licenses %+v dropped %+v auth %+v", st.Licenses, st.DroppedUsage, st.Authorization)
		}
		if got := m.pool(t, "network-advantage").InUse; got != 0 {
			t.Fatalf("network-advantage in use %d, want 0", got)
		}

		// A line already authorized that the product may no longer consume
		// is dropped too, rather than failing every renewal.
		if err := d.SetUsage("network-advantage", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := m.mgr.UpdateProduct(m.op, "ISR4451", smartlic.ProductUpdate{LicenseTypes: &[]string{"hseck9"}}); err != nil {
			t.Fatal(err)
		}
		if err := d.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		if st := d.Status(); len(st.Licenses) != 0 || len(st.DroppedUsage) != 1 || st.DroppedUsage[0].LicenseTag != "network-advantage" {
			t.Fatalf("after the product lost network-advantage: licenses %+v dropped %+v", st.Licenses, st.DroppedUsage)
		}
	})
}

// The agent drops the lines the refusal's tags name (the error body's
// "tags"), whatever its message says: here the message quotes a line the
// manager did not refuse, and one refusal names two lines, both dropped
// in one round. A manager older than the tags field quotes the one tag in
// its message, and that still drops the line.
func TestRefusedUsageByTags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refuse  func(tags []string) *smartlic.Error
		dropped []string
	}{
		{name: "tags", dropped: []string{"alpha", "beta"}, refuse: func(tags []string) *smartlic.Error {
			var refused []string
			for _, tag := range tags {
				if tag == "alpha" || tag == "beta" {
					refused = append(refused, tag)
				}
			}
			if refused == nil {
				return nil
			}
			return &smartlic.Error{Code: smartlic.EInvalid, Field: "usage.tag", Tags: refused,
				Message: `these licenses may not be consumed (unlike "network-advantage")`}
		}},
		{name: "old manager", dropped: []string{"alpha"}, refuse: func(tags []string) *smartlic.Error {
			if !slices.Contains(tags, "alpha") {
				return nil
			}
			return smartlic.Invalid("usage.tag", `product C9300-24T may not consume license "alpha"`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, a := registered(t) // network-advantage authorized
			for _, tag := range []string{"alpha", "beta"} {
				if err := a.SetUsage(tag, 1); err != nil {
					t.Fatal(err)
				}
			}
			p.mu.Lock()
			p.refuse = tc.refuse
			p.mu.Unlock()
			before := p.callsTo("authorize")
			if err := a.Authorize(t.Context()); err != nil {
				t.Fatalf("authorize with refused lines: %v", err)
			}
			var got []string
			for _, d := range a.Status().DroppedUsage {
				got = append(got, d.LicenseTag)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.dropped) {
				t.Fatalf("dropped %q, want %q", got, tc.dropped)
			}
			var kept []string
			for _, u := range a.State().Usage {
				kept = append(kept, u.LicenseTag)
			}
			if slices.Contains(kept, "alpha") || !slices.Contains(kept, "network-advantage") {
				t.Fatalf("usage after the drops: %q", kept)
			}
			if n := p.callsTo("authorize") - before; n != 2 {
				t.Fatalf("%d authorize requests, want 2 (the refused one, then one without the refused lines)", n)
			}
		})
	}
}
