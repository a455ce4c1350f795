package manager_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestVirtualAccountTree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("tree.example")
		mk := func(name, parent string) (smartlic.VirtualAccount, error) {
			return f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, smartlic.VirtualAccountInput{Name: name, Parent: parent})
		}
		parent := ""
		for level := 1; level <= smartlic.MaxVADepth; level++ {
			va, err := mk(fmt.Sprintf("L%d", level), parent)
			if err != nil {
				t.Fatalf("level %d: %v", level, err)
			}
			if va.Depth != level {
				t.Fatalf("L%d depth = %d", level, va.Depth)
			}
			parent = va.Name
		}
		_, err := mk("L11", "L10")
		wantCode(t, err, smartlic.EDepthExceeded)
		if smartlic.ErrorField(err) != "parent" {
			t.Errorf("depth error field = %q, want parent", smartlic.ErrorField(err))
		}
		if _, err := f.mgr.GetVirtualAccount(f.ctx, sa.Domain, "L11"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("refused VA exists: %v", err)
		}

		// Moving L2 under L10 would be a cycle; under itself too.
		_, err = f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, "L2", smartlic.VirtualAccountUpdate{Parent: ptr("L10")})
		wantCode(t, err, smartlic.ECycle)
		_, err = f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, "L2", smartlic.VirtualAccountUpdate{Parent: ptr("L2")})
		wantCode(t, err, smartlic.ECycle)

		// A side branch of depth 2 cannot move under L9 (it would reach 11).
		must[smartlic.VirtualAccount](t)(mk("Side", ""))
		must[smartlic.VirtualAccount](t)(mk("SideChild", "Side"))
		_, err = f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, "Side", smartlic.VirtualAccountUpdate{Parent: ptr("L9")})
		wantCode(t, err, smartlic.EDepthExceeded)
		// Under L8 it fits exactly, and the child is re-levelled.
		moved := must[smartlic.VirtualAccount](t)(f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, "Side", smartlic.VirtualAccountUpdate{Parent: ptr("L8")}))
		if moved.Depth != 9 {
			t.Fatalf("moved depth = %d, want 9", moved.Depth)
		}
		child := must[smartlic.VirtualAccount](t)(f.mgr.GetVirtualAccount(f.ctx, sa.Domain, "SideChild"))
		if child.Depth != 10 {
			t.Fatalf("child depth after move = %d, want 10", child.Depth)
		}
		// Back to the top level.
		moved = must[smartlic.VirtualAccount](t)(f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, "Side", smartlic.VirtualAccountUpdate{Parent: ptr("")}))
		if moved.Depth != 1 || moved.ParentID != "" {
			t.Fatalf("top-level move = %+v", moved)
		}

		// Rename keeps uniqueness.
		_, err = f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, "Side", smartlic.VirtualAccountUpdate{Name: ptr("L1")})
		wantCode(t, err, smartlic.EConflict)
		renamed := must[smartlic.VirtualAccount](t)(f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, "Side", smartlic.VirtualAccountUpdate{Name: ptr("Branch Offices")}))
		if renamed.Name != "Branch Offices" {
			t.Fatalf("rename = %+v", renamed)
		}

		// Delete only when empty; DEFAULT never.
		wantCode(t, f.mgr.DeleteVirtualAccount(f.ctx, sa.Domain, "Branch Offices"), smartlic.ENotEmpty)
		must[struct{}](t)(struct{}{}, f.mgr.DeleteVirtualAccount(f.ctx, sa.Domain, "SideChild"))
		must[struct{}](t)(struct{}{}, f.mgr.DeleteVirtualAccount(f.ctx, sa.Domain, "Branch Offices"))
		wantCode(t, f.mgr.DeleteVirtualAccount(f.ctx, sa.Domain, smartlic.DefaultVAName), smartlic.EConflict)
		_, err = f.mgr.UpdateVirtualAccount(f.ctx, sa.Domain, smartlic.DefaultVAName, smartlic.VirtualAccountUpdate{Name: ptr("Other")})
		wantCode(t, err, smartlic.EInvalid)
	})
}

func TestDeleteVirtualAccountWithContents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("contents.example")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.ID, smartlic.VirtualAccountInput{Name: "Lab"}))
		tok := must[smartlic.Token](t)(f.mgr.CreateToken(f.ctx, sa.ID, "Lab", smartlic.TokenInput{Description: "lab", ExpiresInDays: 1}))
		err := f.mgr.DeleteVirtualAccount(f.ctx, sa.ID, "Lab")
		wantCode(t, err, smartlic.ENotEmpty)
		// An expired token no longer keeps the VA alive.
		f.clock.Advance(2 * smartlic.Day)
		if err := f.mgr.DeleteVirtualAccount(f.ctx, sa.ID, "Lab"); err != nil {
			t.Fatalf("delete after token expiry: %v", err)
		}
		if _, err := f.mgr.GetToken(f.ctx, sa.ID, smartlic.DefaultVAName, tok.ID); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("token of deleted VA still reachable: %v", err)
		}
	})
}

func TestSmartAccountRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := must[smartlic.SmartAccount](t)(f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Small Shop", Domain: "Shop.Example", LimitedUse: true}))
		if sa.Status != smartlic.SARequested || sa.Domain != "shop.example" {
			t.Fatalf("new SA = %+v, want requested with lower-case domain", sa)
		}
		if _, err := f.mgr.GetVirtualAccount(f.ctx, "SHOP.example", smartlic.DefaultVAName); err != nil {
			t.Fatalf("DEFAULT VA by domain in other case: %v", err)
		}
		_, err := f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Dup", Domain: "shop.example"})
		wantCode(t, err, smartlic.EConflict)
		_, err = f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Bad", Domain: "not a domain"})
		wantCode(t, err, smartlic.EInvalid)
		_, err = f.mgr.CreateVirtualAccount(f.ctx, sa.ID, smartlic.VirtualAccountInput{Name: "More"})
		wantCode(t, err, smartlic.ELimitedUse)
		_, err = f.mgr.CreateToken(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{Description: "t", ExpiresInDays: 30})
		wantCode(t, err, smartlic.EConflict) // awaiting approval
		sa = must[smartlic.SmartAccount](t)(f.mgr.ApproveSmartAccount(f.ctx, sa.Domain))
		if sa.Status != smartlic.SAActive {
			t.Fatalf("approve: %+v", sa)
		}
		must[smartlic.Token](t)(f.mgr.CreateToken(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{Description: "t", ExpiresInDays: 30}))
	})
}

func TestTokenInputRules(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	sa := f.account("tokens.example")
	for _, tc := range []struct {
		in    smartlic.TokenInput
		field string
	}{
		{smartlic.TokenInput{Description: "t", ExpiresInDays: 0}, "expires_in_days"},
		{smartlic.TokenInput{Description: "t", ExpiresInDays: 366}, "expires_in_days"},
		{smartlic.TokenInput{Description: "t", ExpiresInDays: 30, MaxUses: ptr[int64](0)}, "max_uses"},
		{smartlic.TokenInput{ExpiresInDays: 30}, "description"},
		{smartlic.TokenInput{Description: "  ", ExpiresInDays: 30}, "description"},
	} {
		_, err := f.mgr.CreateToken(f.ctx, sa.ID, smartlic.DefaultVAName, tc.in)
		wantCode(t, err, smartlic.EInvalid)
		if smartlic.ErrorField(err) != tc.field {
			t.Errorf("%+v: field %q, want %q", tc.in, smartlic.ErrorField(err), tc.field)
		}
	}
	toks, _, err := f.mgr.ListTokens(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.Page{})
	if err != nil || len(toks) != 0 {
		t.Fatalf("refused tokens were stored: %v %v", toks, err)
	}
	tok := must[smartlic.Token](t)(f.mgr.CreateToken(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{ExpiresInDays: 365, Description: "lab"}))
	if tok.Secret == "" || tok.ExpiresAt != epoch.Add(365*smartlic.Day) {
		t.Fatalf("token = %+v", tok)
	}
	got := must[smartlic.Token](t)(f.mgr.GetToken(f.ctx, sa.ID, smartlic.DefaultVAName, tok.ID))
	if got.Secret != "" {
		t.Fatal("the secret is shown again after creation")
	}
}

func TestPaging(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	for i := 0; i < 7; i++ {
		f.account(fmt.Sprintf("page%d.example", i))
	}
	var all []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging never ends")
		}
		items, next, err := f.mgr.ListSmartAccounts(f.ctx, smartlic.SmartAccountFilter{}, smartlic.Page{Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, sa := range items {
			all = append(all, sa.Domain)
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(all) != 7 {
		t.Fatalf("paged through %d accounts, want 7: %v", len(all), all)
	}
	_, _, err := f.mgr.ListSmartAccounts(f.ctx, smartlic.SmartAccountFilter{}, smartlic.Page{Limit: 1001})
	wantCode(t, err, smartlic.EInvalid)
}

func ptr[T any](v T) *T { return &v }

// TestDenySmartAccount follows a request the vendor refuses: the reason is
// required and recorded, nobody works in the account, its domain stays
// taken, lists filter by status, and the vendor may still approve it.
func TestDenySmartAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		active := f.account("active.example")
		req := must[smartlic.SmartAccount](t)(f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Shady", Domain: "shady.example"}))

		// Only the vendor decides: an administrator of the account is refused.
		admin := f.user("admin@shady.example", req.Domain, "sa_admin")
		_, err := f.mgr.DenySmartAccount(admin, req.Domain, "not mine")
		wantCode(t, err, smartlic.EForbidden)

		for _, bad := range []struct{ reason, why string }{
			{"", "missing"}, {"   ", "blank"}, {"a\x00b", "NUL"}, {strings.Repeat("é", smartlic.MaxDenyReason+1), "too long"},
		} {
			_, err := f.mgr.DenySmartAccount(f.ctx, req.Domain, bad.reason)
			wantCode(t, err, smartlic.EInvalid)
			var e *smartlic.Error
			if errors.As(err, &e) && e.Field != "reason" {
				t.Errorf("%s reason: field %q, want reason", bad.why, e.Field)
			}
		}
		if got := must[smartlic.SmartAccount](t)(f.mgr.GetSmartAccount(f.ctx, req.Domain)); got.Status != smartlic.SARequested {
			t.Fatalf("a refused deny changed the account: %s", got.Status)
		}

		_, err = f.mgr.DenySmartAccount(f.ctx, active.Domain, "too late")
		wantCode(t, err, smartlic.EConflict)

		const reason = "the domain belongs to another company"
		denied := must[smartlic.SmartAccount](t)(f.mgr.DenySmartAccount(f.ctx, req.Domain, reason))
		if denied.Status != smartlic.SADenied {
			t.Fatalf("deny: status %s", denied.Status)
		}
		again := must[smartlic.SmartAccount](t)(f.mgr.DenySmartAccount(f.ctx, req.Domain, "twice"))
		if again.Status != smartlic.SADenied {
			t.Fatalf("deny again: status %s", again.Status)
		}
		// The requester reads why, in the account's event log.
		evs, _, err := f.mgr.ListEvents(admin, req.Domain, smartlic.EventFilter{Type: "account.denied"}, smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || !strings.Contains(evs[0].Message, reason) {
			t.Fatalf("account.denied events = %+v, want one with the reason", evs)
		}

		_, err = f.mgr.CreateToken(f.ctx, req.Domain, smartlic.DefaultVAName, smartlic.TokenInput{Description: "t", ExpiresInDays: 30})
		wantCode(t, err, smartlic.EConflict)
		_, err = f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Again", Domain: "SHADY.example"})
		wantCode(t, err, smartlic.EConflict)
		_, err = f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Sneaky", Domain: "sneaky.example", Status: smartlic.SADenied})
		wantCode(t, err, smartlic.EInvalid)

		domains := func(ctx context.Context, st smartlic.SmartAccountStatus) []string {
			t.Helper()
			items, _, err := f.mgr.ListSmartAccounts(ctx, smartlic.SmartAccountFilter{Status: st}, smartlic.Page{})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, sa := range items {
				out = append(out, sa.Domain)
			}
			return out
		}
		if got := domains(f.ctx, smartlic.SARequested); len(got) != 0 {
			t.Errorf("requested = %v, want none", got)
		}
		if got := domains(f.ctx, smartlic.SADenied); !slices.Equal(got, []string{"shady.example"}) {
			t.Errorf("denied = %v", got)
		}
		if got := domains(admin, smartlic.SAActive); len(got) != 0 {
			t.Errorf("the denied account's admin sees active accounts %v", got)
		}
		if got := domains(admin, smartlic.SADenied); !slices.Equal(got, []string{"shady.example"}) {
			t.Errorf("the admin's denied accounts = %v", got)
		}
		_, _, err = f.mgr.ListSmartAccounts(f.ctx, smartlic.SmartAccountFilter{Status: "gone"}, smartlic.Page{})
		wantCode(t, err, smartlic.EInvalid)

		if sa := must[smartlic.SmartAccount](t)(f.mgr.ApproveSmartAccount(f.ctx, req.Domain)); sa.Status != smartlic.SAActive {
			t.Fatalf("approve after deny: %s", sa.Status)
		}
		verdicts := must[[]smartlic.ChainVerdict](t)(f.mgr.VerifyEvents(f.ctx, req.Domain))
		for _, v := range verdicts {
			if !v.OK {
				t.Errorf("chain %s: %s", v.Chain, v.Problem)
			}
		}
	})
}
