package manager_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// policyInput is the default's rules under another name, with the
// subscription frequency changed so versions are told apart.
func policyInput(name string, frequency int) smartlic.PolicyInput {
	d := smartlic.DefaultPolicy()
	d.Rules.UnenforcedSubscription.ReportingFrequencyDays = frequency
	return smartlic.PolicyInput{Name: name, Rules: d.Rules}
}

func TestPolicyInheritance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example").Domain
		f.vas(sa, "Eng")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa, smartlic.VirtualAccountInput{Name: "Lab", Parent: "Eng"}))
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa, smartlic.VirtualAccountInput{Name: "Bench", Parent: "Lab"}))
		effective := func(va string) smartlic.PolicyInForce {
			t.Helper()
			return must[smartlic.PolicyInForce](t)(f.mgr.EffectivePolicy(f.ctx, sa, va))
		}
		if e := effective("Bench"); e.Policy.Scope != smartlic.ScopeDefault || !e.Inherited || e.Policy.Rules != smartlic.DefaultPolicy().Rules {
			t.Fatalf("no custom policy: %+v", e)
		}
		wantCode(t, errOf(f.mgr.GetPolicy(f.ctx, sa, "")), smartlic.ENotFound)

		must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "", policyInput("Acme", 30)))
		if e := effective("Bench"); e.Policy.Name != "Acme" || e.Policy.Scope != smartlic.ScopeSmartAccount {
			t.Fatalf("SA policy not inherited: %+v", e)
		}
		must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "Eng", policyInput("Eng", 60)))
		if e := effective("Bench"); e.Policy.Name != "Eng" || !e.Inherited || e.Policy.Rules.UnenforcedSubscription.ReportingFrequencyDays != 60 {
			t.Fatalf("nearest ancestor should win: %+v", e)
		}
		lab := must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "Lab", policyInput("Lab", 7)))
		if e := effective("Lab"); e.Policy.ID != lab.ID || e.Inherited || e.VirtualAccount != "Lab" {
			t.Fatalf("own policy: %+v", e)
		}
		if e := effective("DEFAULT"); e.Policy.Name != "Acme" {
			t.Fatalf("a sibling tree keeps the SA's: %+v", e)
		}
		// Delete the Lab policy: Bench falls back to Eng's.
		if err := f.mgr.DeletePolicy(f.ctx, sa, "Lab"); err != nil {
			t.Fatal(err)
		}
		if e := effective("Bench"); e.Policy.Name != "Eng" {
			t.Fatalf("after delete: %+v", e)
		}
		wantCode(t, f.mgr.DeletePolicy(f.ctx, sa, "Lab"), smartlic.ENotFound)
		hist, next := mustPage[smartlic.Policy](t)(f.mgr.PolicyHistory(f.ctx, sa, "Lab", smartlic.Page{}))
		if len(hist) != 2 || next != "" || hist[0].Version != 2 || !hist[0].Deleted || hist[1].Version != 1 || hist[1].Name != "Lab" {
			t.Fatalf("history = %+v", hist)
		}
		// Setting it again continues the numbering.
		if p := must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "Lab", policyInput("Lab", 8))); p.Version != 3 || p.ID != lab.ID {
			t.Fatalf("set after delete = %+v", p)
		}
		list := must[[]smartlic.Policy](t)(f.mgr.ListPolicies(f.ctx, sa))
		var names []string
		for _, p := range list {
			names = append(names, p.Name)
		}
		if !slices.Equal(names, []string{"Default Policy", "Acme", "Eng", "Lab"}) {
			t.Fatalf("list = %v", names)
		}
		// Each change is in the event log.
		evs, _ := mustPage[smartlic.Event](t)(f.mgr.ListEvents(f.ctx, sa, smartlic.EventFilter{}, smartlic.Page{}))
		count := map[string]int{}
		for _, e := range evs {
			count[e.Type]++
		}
		if count["policy.set"] != 4 || count["policy.deleted"] != 1 {
			t.Fatalf("events = %v", count)
		}
	})
}

func errOf[T any](_ T, err error) error { return err }

func mustPage[T any](t *testing.T) func([]T, string, error) ([]T, string) {
	return func(v []T, next string, err error) ([]T, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v, next
	}
}

func TestPolicyAuthorization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example").Domain
		f.vas(sa, "Eng", "Sales")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa, smartlic.VirtualAccountInput{Name: "Lab", Parent: "Eng"}))
		other := f.account("evil.example").Domain
		admin := f.user("admin@acme.example", sa, smartlic.RoleSAAdmin)
		engAdmin := f.user("eng@acme.example", sa, smartlic.RoleVAAdmin+":Eng")
		reader := f.user("reader@acme.example", sa, smartlic.RoleSAUser)
		vaUser := f.user("lab@acme.example", sa, smartlic.RoleVAUser+":Lab")
		evil := f.user("admin@evil.example", other, smartlic.RoleSAAdmin)

		// SA admin: the account and every VA.
		must[smartlic.Policy](t)(f.mgr.SetPolicy(admin, sa, "", policyInput("Acme", 30)))
		must[smartlic.Policy](t)(f.mgr.SetPolicy(admin, sa, "Sales", policyInput("Sales", 30)))
		// VA admin: its VA and below, not a sibling, not the account.
		must[smartlic.Policy](t)(f.mgr.SetPolicy(engAdmin, sa, "Eng", policyInput("Eng", 30)))
		must[smartlic.Policy](t)(f.mgr.SetPolicy(engAdmin, sa, "Lab", policyInput("Lab", 30)))
		wantCode(t, errOf(f.mgr.SetPolicy(engAdmin, sa, "Sales", policyInput("mine now", 1))), smartlic.EForbidden)
		wantCode(t, f.mgr.DeletePolicy(engAdmin, sa, "Sales"), smartlic.EForbidden)
		wantCode(t, errOf(f.mgr.SetPolicy(engAdmin, sa, "", policyInput("mine now", 1))), smartlic.EForbidden)
		// Another account's admin: nothing here, whether by name or by id.
		salesVA := must[smartlic.VirtualAccount](t)(f.mgr.GetVirtualAccount(f.ctx, sa, "Sales"))
		wantCode(t, errOf(f.mgr.SetPolicy(evil, sa, "Sales", policyInput("pwned", 1))), smartlic.EForbidden)
		wantCode(t, errOf(f.mgr.SetPolicy(evil, other, salesVA.ID, policyInput("pwned", 1))), smartlic.ENotFound)
		wantCode(t, f.mgr.DeletePolicy(evil, sa, ""), smartlic.EForbidden)
		wantCode(t, errOf(f.mgr.GetPolicy(evil, sa, "")), smartlic.EForbidden)
		wantCode(t, errOf(f.mgr.ListPolicies(evil, sa)), smartlic.EForbidden)
		// Readers read, never write.
		if p := must[smartlic.Policy](t)(f.mgr.GetPolicy(reader, sa, "Sales")); p.Name != "Sales" {
			t.Fatalf("reader got %+v", p)
		}
		wantCode(t, errOf(f.mgr.SetPolicy(reader, sa, "Sales", policyInput("x", 1))), smartlic.EForbidden)
		// A VA user sees its VA's policy in force, and lists only what it may see.
		if e := must[smartlic.PolicyInForce](t)(f.mgr.EffectivePolicy(vaUser, sa, "Lab")); e.Policy.Name != "Lab" {
			t.Fatalf("va user effective = %+v", e)
		}
		wantCode(t, errOf(f.mgr.EffectivePolicy(vaUser, sa, "Sales")), smartlic.EForbidden)
		var names []string
		for _, p := range must[[]smartlic.Policy](t)(f.mgr.ListPolicies(vaUser, sa)) {
			names = append(names, p.Name)
		}
		if !slices.Equal(names, []string{"Default Policy", "Lab"}) {
			t.Fatalf("va user list = %v", names)
		}
		// The default: the operator alone edits it; everyone reads it.
		wantCode(t, errOf(f.mgr.SetDefaultPolicy(admin, policyInput("mine", 1))), smartlic.EForbidden)
		wantCode(t, errOf(f.mgr.ResetDefaultPolicy(admin)), smartlic.EForbidden)
		if d := must[smartlic.Policy](t)(f.mgr.GetDefaultPolicy(reader)); d.Version != 1 || d.Scope != smartlic.ScopeDefault {
			t.Fatalf("default = %+v", d)
		}
		wantCode(t, errOf(f.mgr.GetDefaultPolicy(context.Background())), smartlic.EUnauthorized)
	})
}

func TestPolicyValidationAndVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example").Domain
		bad := policyInput("Bad", 1)
		bad.Rules.ExportControlled.ReportAfterChangeDays = 1_000_000
		err := errOf(f.mgr.SetPolicy(f.ctx, sa, "", bad))
		if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != "classes.export_controlled.report_after_change_days" {
			t.Fatalf("absurd value: %v", err)
		}
		bad = policyInput("", 1)
		if err := errOf(f.mgr.SetPolicy(f.ctx, sa, "", bad)); smartlic.ErrorField(err) != "name" {
			t.Fatalf("no name: %v", err)
		}
		wantCode(t, errOf(f.mgr.SetPolicy(f.ctx, sa, "Nowhere", policyInput("x", 1))), smartlic.ENotFound)
		// Nothing was stored by the refusals.
		if _, err := f.mgr.GetPolicy(f.ctx, sa, ""); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("a refused edit left a policy: %v", err)
		}
		// A base version that never existed is a mistake, not an edit
		// made meanwhile.
		phantom := policyInput("A", 1)
		phantom.BaseVersion = 3
		if err := errOf(f.mgr.SetPolicy(f.ctx, sa, "", phantom)); smartlic.ErrorCode(err) != smartlic.EInvalid || !strings.Contains(smartlic.ErrorMessage(err), "no policy of its own yet") {
			t.Fatalf("a base version on a scope without a policy: %v", err)
		}
		// Optimistic edits: the second edit of version 1 is refused.
		v1 := must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "", policyInput("A", 1)))
		phantom.BaseVersion = 99
		if err := errOf(f.mgr.SetPolicy(f.ctx, sa, "", phantom)); smartlic.ErrorCode(err) != smartlic.EInvalid || !strings.Contains(smartlic.ErrorMessage(err), "latest is version 1") {
			t.Fatalf("a base version from the future: %v", err)
		}
		in := policyInput("B", 2)
		in.BaseVersion = v1.Version
		must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "", in))
		in.Name = "C"
		err = errOf(f.mgr.SetPolicy(f.ctx, sa, "", in))
		if smartlic.ErrorCode(err) != smartlic.EConflict || smartlic.ErrorField(err) != "base_version" {
			t.Fatalf("stale edit: %v", err)
		}

		// Concurrent edits each get their own version number.
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.mgr.SetPolicy(f.ctx, sa, "", policyInput("racer", 10+i))
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("concurrent edit: %v", err)
			}
		}
		hist, _ := mustPage[smartlic.Policy](t)(f.mgr.PolicyHistory(f.ctx, sa, "", smartlic.Page{}))
		seen := map[int]bool{}
		for _, p := range hist {
			if seen[p.Version] {
				t.Fatalf("version %d twice: %+v", p.Version, hist)
			}
			seen[p.Version] = true
		}
		if len(hist) != 2+n || hist[0].Version != 2+n {
			t.Fatalf("history has %d versions, newest %d; want %d", len(hist), hist[0].Version, 2+n)
		}
		// Paging the history by version.
		page1, next := mustPage[smartlic.Policy](t)(f.mgr.PolicyHistory(f.ctx, sa, "", smartlic.Page{Limit: 3}))
		page2, _ := mustPage[smartlic.Policy](t)(f.mgr.PolicyHistory(f.ctx, sa, "", smartlic.Page{Limit: 3, After: next}))
		if len(page1) != 3 || next != "6" || len(page2) != 3 || page2[0].Version != 5 {
			t.Fatalf("pages: %d next %q, then %+v", len(page1), next, page2)
		}
		_, _, err = f.mgr.PolicyHistory(f.ctx, sa, "", smartlic.Page{After: "x"})
		wantCode(t, err, smartlic.EInvalid)

		// The operator edits the default: version 2 (1 is the built-in), then resets.
		def := must[smartlic.Policy](t)(f.mgr.SetDefaultPolicy(f.ctx, policyInput("Vendor 2027", 45)))
		if def.Version != 2 || def.Scope != smartlic.ScopeDefault {
			t.Fatalf("default edit = %+v", def)
		}
		if got := must[smartlic.Policy](t)(f.mgr.GetDefaultPolicy(f.ctx)); got.Name != "Vendor 2027" {
			t.Fatalf("default in force = %+v", got)
		}
		reset := must[smartlic.Policy](t)(f.mgr.ResetDefaultPolicy(f.ctx))
		got := must[smartlic.Policy](t)(f.mgr.GetDefaultPolicy(f.ctx))
		if reset.Version != 3 || got.Version != 3 || got.Rules != smartlic.DefaultPolicy().Rules || got.Deleted {
			t.Fatalf("after reset: %+v / %+v", reset, got)
		}
		dh, _ := mustPage[smartlic.Policy](t)(f.mgr.DefaultPolicyHistory(f.ctx, smartlic.Page{}))
		if len(dh) != 2 {
			t.Fatalf("default history = %+v", dh)
		}
	})
}
