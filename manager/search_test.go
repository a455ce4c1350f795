package manager_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func instanceUDIs(r smartlic.SearchResults) []string {
	var out []string
	for _, h := range r.Instances {
		out = append(out, h.SmartAccount+"/"+h.VirtualAccount+"/"+h.Instance.UDI.String())
	}
	return out
}

// Search finds instances by UDI, serial, host name and PID, tokens by
// description and deposits by order number, only where the caller may
// view licensing: another account, or another VA of a VA user, stays
// invisible, and naming a VA the caller cannot see is refused.
func TestSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		other := f.account("globex.example").Domain
		f.vas(sa, "Lab", "Campus")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa, smartlic.VirtualAccountInput{Name: "Lab-Rack", Parent: "Lab"}))
		end := epoch.Add(365 * smartlic.Day)
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "Lab", smartlic.DepositInput{OrderNumber: "PO-77_1", License: "network-advantage", Quantity: 5, EndsAt: &end}))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "Campus", smartlic.DepositInput{OrderNumber: "PO-770", License: "network-advantage", Quantity: 5, EndsAt: &end}))
		devs := map[string]*device{}
		for _, r := range []struct{ sa, va, sn string }{
			{sa, "Lab", "FOCLAB01"}, {sa, "Lab-Rack", "FOCRACK1"}, {sa, "Campus", "FOCCAMP1"}, {other, smartlic.DefaultVAName, "FOCGLOBX"},
		} {
			devs[r.sn] = newDevice(t, r.sn)
			must[smartlic.IDCert](t)(f.register(devs[r.sn], f.token(r.sa, r.va, smartlic.TokenInput{Description: "switches of " + r.va})))
		}

		// The operator sees every account.
		res := must[smartlic.SearchResults](t)(f.mgr.Search(f.ctx, smartlic.SearchQuery{Q: "foc"}))
		if got := instanceUDIs(res); len(got) != 4 {
			t.Fatalf("operator search foc = %v", got)
		}
		// By host name (the fixture's devices are sw-SN), exact UDI, PID.
		for q, want := range map[string]int{"sw-foclab01": 1, "C9300-24T:FOCCAMP1": 1, "c9300": 4, "zzz": 0} {
			res := must[smartlic.SearchResults](t)(f.mgr.Search(f.ctx, smartlic.SearchQuery{Q: q, Kind: smartlic.SearchInstances}))
			if len(res.Instances) != want {
				t.Errorf("search %q = %v, want %d", q, instanceUDIs(res), want)
			}
		}
		// LIKE's wildcards are literal: "77_" matches PO-77_1, not PO-770.
		res = must[smartlic.SearchResults](t)(f.mgr.Search(f.ctx, smartlic.SearchQuery{Q: "77_", SA: sa}))
		if len(res.Deposits) != 1 || res.Deposits[0].Deposit.OrderNumber != "PO-77_1" || res.Deposits[0].VirtualAccount != "Lab" {
			t.Fatalf("deposits 77_ = %+v", res.Deposits)
		}
		res = must[smartlic.SearchResults](t)(f.mgr.Search(f.ctx, smartlic.SearchQuery{Q: "switches of lab"}))
		if len(res.Tokens) != 2 || res.Tokens[0].Token.Hash != "" {
			t.Fatalf("tokens = %+v", res.Tokens)
		}

		// An SA user of acme sees acme only.
		saUser := f.user("sa-user@acme.example", sa, smartlic.RoleSAUser)
		res = must[smartlic.SearchResults](t)(f.mgr.Search(saUser, smartlic.SearchQuery{Q: "foc"}))
		if got := instanceUDIs(res); len(got) != 3 || slices.ContainsFunc(got, func(s string) bool { return s == other+"/DEFAULT/C9300-24T:FOCGLOBX" }) {
			t.Fatalf("SA user sees %v", got)
		}
		// A VA user of Lab sees Lab and Lab-Rack, never Campus.
		labUser := f.user("lab@acme.example", sa, smartlic.RoleVAUser+":Lab")
		res = must[smartlic.SearchResults](t)(f.mgr.Search(labUser, smartlic.SearchQuery{Q: "foc"}))
		want := []string{sa + "/Lab-Rack/C9300-24T:FOCRACK1", sa + "/Lab/C9300-24T:FOCLAB01"}
		got := instanceUDIs(res)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("VA user sees %v, want %v", got, want)
		}
		if res = must[smartlic.SearchResults](t)(f.mgr.Search(labUser, smartlic.SearchQuery{Q: "PO-77"})); len(res.Deposits) != 1 {
			t.Fatalf("VA user deposits = %+v", res.Deposits)
		}
		_, err := f.mgr.Search(labUser, smartlic.SearchQuery{SA: sa, VA: "Campus"})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.Search(labUser, smartlic.SearchQuery{Q: "foc", SA: other})
		if c := smartlic.ErrorCode(err); c != smartlic.EForbidden && c != smartlic.ENotFound {
			t.Fatalf("VA user searching another account: %v", err)
		}
		// A VA's listing with roll-up, paged.
		res = must[smartlic.SearchResults](t)(f.mgr.Search(labUser, smartlic.SearchQuery{SA: sa, VA: "Lab", Rollup: true, Kind: smartlic.SearchInstances, Limit: 1}))
		if len(res.Instances) != 1 || !res.MoreInstances || res.Next == "" {
			t.Fatalf("page 1 = %+v", res)
		}
		res2 := must[smartlic.SearchResults](t)(f.mgr.Search(labUser, smartlic.SearchQuery{SA: sa, VA: "Lab", Rollup: true, Kind: smartlic.SearchInstances, Limit: 1, After: res.Next}))
		if len(res2.Instances) != 1 || res2.MoreInstances || res2.Instances[0].Instance.ID == res.Instances[0].Instance.ID {
			t.Fatalf("page 2 = %+v", res2)
		}
		res = must[smartlic.SearchResults](t)(f.mgr.Search(labUser, smartlic.SearchQuery{SA: sa, VA: "Lab", Kind: smartlic.SearchInstances}))
		if len(res.Instances) != 1 {
			t.Fatalf("Lab alone = %v", instanceUDIs(res))
		}

		// The instances using a license type, with no text.
		f.mustUse(devs["FOCRACK1"], use("network-advantage", 1))
		res = must[smartlic.SearchResults](t)(f.mgr.Search(labUser, smartlic.SearchQuery{SA: sa, License: "network-advantage"}))
		if got := instanceUDIs(res); !slices.Equal(got, []string{sa + "/Lab-Rack/C9300-24T:FOCRACK1"}) || len(res.Tokens) != 0 {
			t.Fatalf("instances using network-advantage = %v", got)
		}
		_, err = f.mgr.Search(labUser, smartlic.SearchQuery{SA: sa, License: "no-such"})
		wantCode(t, err, smartlic.ENotFound)

		// Bad queries name their field.
		for _, c := range []struct {
			q     smartlic.SearchQuery
			field string
		}{
			{smartlic.SearchQuery{}, "q"},
			{smartlic.SearchQuery{Q: "a"}, "q"},
			{smartlic.SearchQuery{Q: fmt.Sprintf("%0101d", 0)}, "q"},
			{smartlic.SearchQuery{Q: "foc", Kind: "users"}, "kind"},
			{smartlic.SearchQuery{Q: "foc", Limit: 500}, "limit"},
			{smartlic.SearchQuery{Q: "foc", After: "x"}, "after"},
			{smartlic.SearchQuery{Q: "foc", VA: "Lab"}, "sa"},
		} {
			_, err := f.mgr.Search(f.ctx, c.q)
			var e *smartlic.Error
			if smartlic.ErrorCode(err) != smartlic.EInvalid || !errors.As(err, &e) || e.Field != c.field {
				t.Errorf("Search(%+v) = %v, want invalid %s", c.q, err, c.field)
			}
		}
	})
}

// An instance's history is the events whose subject it is, whichever VA
// they were recorded in.
func TestEventsBySubject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		tok := f.token(sa, smartlic.DefaultVAName, smartlic.TokenInput{})
		a, b := newDevice(t, "FOCA"), newDevice(t, "FOCB")
		must[smartlic.IDCert](t)(f.register(a, tok))
		must[smartlic.IDCert](t)(f.register(b, tok))
		f.mustUse(a, use("network-essentials", 1))
		evs, _, err := f.mgr.ListEvents(f.ctx, sa, smartlic.EventFilter{Subject: a.id}, smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			if e.Subject != a.id {
				t.Fatalf("event of %s in %s's history: %+v", e.Subject, a.id, e)
			}
			types = append(types, e.Type)
		}
		if !slices.Equal(types, []string{"instance.registered", "instance.usage_changed"}) {
			t.Fatalf("history of a = %v", types)
		}
	})
}
