package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/smartlic/smartlic"
)

// RunPolicies runs the conformance tests of Using Policy policies; open
// returns a new, empty store for each subtest.
func RunPolicies(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"PolicyVersions", testPolicyVersions},
		{"CurrentPolicies", testCurrentPolicies},
		{"ConcurrentPolicyVersions", testConcurrentPolicyVersions},
	})
}

func (f *fixture) policyVersion(p smartlic.Policy) error {
	return f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertPolicyVersion(ctx, p) })
}

func (f *fixture) latestPolicy(subject string) (smartlic.Policy, error) {
	var p smartlic.Policy
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		p, err = tx.LatestPolicyVersion(ctx, subject)
		return err
	})
	return p, err
}

func testPolicyVersions(t *testing.T, f *fixture) {
	sa, va := f.account("policy.example")
	if _, err := f.latestPolicy(va.ID); smartlic.ErrorCode(err) != smartlic.ENotFound {
		t.Fatalf("latest of nothing: %v", err)
	}
	p := smartlic.DefaultPolicy()
	p.ID, p.Name, p.Scope, p.SmartAccountID, p.VirtualAccountID = newID(t), "Lab", smartlic.ScopeVirtualAccount, sa.ID, va.ID
	p.Rules.Enforced = smartlic.ReportingRule{FirstReportDays: 7, ReportingFrequencyDays: 30, ReportAfterChangeDays: 3650}
	p.CreatedAt, p.CreatedBy = f.now, "ada@example.com"
	if err := f.policyVersion(p); err != nil {
		t.Fatal(err)
	}
	got, err := f.latestPolicy(va.ID)
	if err != nil || got.ID != p.ID || got.Version != 1 || got.Rules != p.Rules || got.VirtualAccount != va.Name ||
		got.Scope != smartlic.ScopeVirtualAccount || got.SmartAccountID != sa.ID || !got.CreatedAt.Equal(f.now) || got.CreatedBy != "ada@example.com" || got.Deleted {
		t.Fatalf("latest = %+v, %v; want %+v", got, err, p)
	}
	// The same version again is a conflict, whatever else differs.
	dup := p
	dup.Name = "other"
	wantErrCode(t, f.policyVersion(dup), smartlic.EConflict)
	// Version 2 deletes; version 3 sets again. All three stay.
	v2 := p
	v2.Version, v2.Deleted = 2, true
	v3 := p
	v3.Version, v3.Name = 3, "Lab again"
	for _, v := range []smartlic.Policy{v2, v3} {
		if err := f.policyVersion(v); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := f.latestPolicy(va.ID); got.Version != 3 || got.Name != "Lab again" {
		t.Fatalf("latest after 3 = %+v", got)
	}
	var page1, page2 []smartlic.Policy
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		if page1, err = tx.PolicyVersions(ctx, va.ID, 0, 2); err != nil {
			return err
		}
		page2, err = tx.PolicyVersions(ctx, va.ID, page1[len(page1)-1].Version, 2)
		return err
	})
	if len(page1) != 2 || page1[0].Version != 3 || page1[1].Version != 2 || !page1[1].Deleted || len(page2) != 1 || page2[0].Version != 1 {
		t.Fatalf("history pages = %+v / %+v", page1, page2)
	}
	// A policy for a VA that does not exist refers to nothing.
	ghost := p
	ghost.VirtualAccountID, ghost.ID = newID(t), newID(t)
	wantErrCode(t, f.policyVersion(ghost), smartlic.ENotFound)
	// The default has no account.
	def := smartlic.DefaultPolicy()
	def.Version, def.CreatedAt, def.CreatedBy = 2, f.now, "operator@vendor.example"
	if err := f.policyVersion(def); err != nil {
		t.Fatal(err)
	}
	if got, err := f.latestPolicy(smartlic.DefaultPolicyID); err != nil || got.Version != 2 || got.Scope != smartlic.ScopeDefault || got.SmartAccountID != "" {
		t.Fatalf("default = %+v, %v", got, err)
	}
}

func testCurrentPolicies(t *testing.T, f *fixture) {
	sa, def := f.account("current.example")
	lab := f.virtualAccount(sa, &def, "Lab")
	gone := f.virtualAccount(sa, nil, "Gone")
	other, otherVA := f.account("other.example")
	mk := func(sa smartlic.SmartAccount, va *smartlic.VirtualAccount, version int, deleted bool) smartlic.Policy {
		p := smartlic.DefaultPolicy()
		p.ID, p.Name, p.Version, p.Deleted, p.Scope, p.SmartAccountID = "p-"+sa.ID, "P", version, deleted, smartlic.ScopeSmartAccount, sa.ID
		if va != nil {
			p.ID, p.Scope, p.VirtualAccountID = "p-"+va.ID, smartlic.ScopeVirtualAccount, va.ID
		}
		p.CreatedAt, p.CreatedBy = f.now, "x"
		if err := f.policyVersion(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mk(sa, nil, 1, false)
	mk(sa, nil, 2, false)
	mk(sa, &lab, 1, false)
	mk(sa, &def, 1, false)
	mk(sa, &def, 2, true) // deleted: no current policy on DEFAULT
	mk(sa, &gone, 1, false)
	mk(other, nil, 1, false)
	mk(other, &otherVA, 1, false)
	// Deleting the VA takes its policy with it.
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteVirtualAccount(ctx, gone.ID) })
	var got []smartlic.Policy
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		got, err = tx.CurrentPolicies(ctx, sa.ID)
		return err
	})
	if len(got) != 2 || got[0].Scope != smartlic.ScopeSmartAccount || got[0].Version != 2 ||
		got[1].VirtualAccountID != lab.ID || got[1].VirtualAccount != "Lab" {
		t.Fatalf("current = %+v", got)
	}
}

// testConcurrentPolicyVersions: edits racing for the same next version
// never both land.
func testConcurrentPolicyVersions(t *testing.T, f *fixture) {
	sa, _ := f.account("race.example")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := smartlic.DefaultPolicy()
			p.ID, p.Name, p.Version, p.Scope, p.SmartAccountID = "p-race", "P", 1, smartlic.ScopeSmartAccount, sa.ID
			p.CreatedAt, p.CreatedBy = f.now, "x"
			errs[i] = f.policyVersion(p)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case smartlic.ErrorCode(err) != smartlic.EConflict:
			t.Errorf("racing insert: %v; want conflict", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d inserts of version 1 succeeded; want exactly 1", ok)
	}
	var got []smartlic.Policy
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		got, err = tx.PolicyVersions(ctx, sa.ID, 0, 100)
		return err
	})
	if len(got) != 1 {
		t.Fatalf("versions = %d; want 1", len(got))
	}
}
