package web_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/web"
)

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// testPassword is the password of every user the tests create.
const testPassword = "correct horse battery"

// portal is the real server: the portal beside the API, as serve wires
// them, over the real manager and a real store, on port 0. Fixtures are
// made through the manager as the operator (p.op); what a test is about
// goes through the browser.
type portal struct {
	t     *testing.T
	url   string
	mgr   *manager.Manager
	clock *smartlic.FakeClock
	op    context.Context // the vendor operator
	opKey string          // its API key
}

func newPortal(t *testing.T, open func(*testing.T) *store.DB) *portal {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	mgr, err := manager.New(context.Background(), open(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := mgr.CreateOperator(context.Background(), "ops@vendor.example")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	api := httpapi.New(mgr, httpapi.Options{Logger: log, Version: "test"})
	ui := web.New(mgr, web.Options{Logger: log, Limiter: api, Clock: clock, SetupHint: "smartlic admin create-operator --db test.db --email you@example.com"})
	srv := httptest.NewServer(web.Mux(api, ui))
	t.Cleanup(srv.Close)
	op := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@vendor.example", Role: smartlic.RoleOperator, Kind: smartlic.ActorOperatorKey})
	return &portal{t: t, url: srv.URL, mgr: mgr, clock: clock, op: op, opKey: key}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// acme makes the Smart Account acme.example with a small VA tree
// (Campus › Building A, Lab), the demo's catalogue and deposits in
// Building A.
func (p *portal) acme() smartlic.SmartAccount {
	p.t.Helper()
	t, ctx := p.t, p.op
	must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
	must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "dna-advantage", Name: "DNA Advantage", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
	must[smartlic.Product](t)(p.mgr.CreateProduct(ctx, smartlic.Product{PID: "C9300-24T", Name: "Catalyst 9300", LicenseTypes: []string{"network-advantage", "dna-advantage"}}))
	sa := must[smartlic.SmartAccount](t)(p.mgr.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme Corporation", Domain: "acme.example", Status: smartlic.SAActive}))
	for _, va := range []smartlic.VirtualAccountInput{
		{Name: "Campus"}, {Name: "Building A", Parent: "Campus"}, {Name: "Lab", Description: "Engineering lab"},
	} {
		must[smartlic.VirtualAccount](t)(p.mgr.CreateVirtualAccount(ctx, sa.Domain, va))
	}
	must[smartlic.Deposit](t)(p.mgr.CreateDeposit(ctx, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "SO-1", License: "network-advantage", Quantity: 4}))
	must[smartlic.Deposit](t)(p.mgr.CreateDeposit(ctx, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "SO-1", License: "dna-advantage", Quantity: 2}))
	return sa
}

// user creates a user with testPassword and grants it role in sa (on VA
// va for VA roles).
func (p *portal) user(email, role, sa, va string) {
	p.t.Helper()
	must[smartlic.User](p.t)(p.mgr.CreateUser(p.op, smartlic.UserInput{Email: email, Name: email, Password: testPassword}))
	must[smartlic.RoleAssignment](p.t)(p.mgr.GrantRole(p.op, sa, smartlic.RoleInput{User: email, Role: role, VA: va}))
}
