package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

type fixture struct {
	c     *client.Client
	url   string
	key   string // the operator's API key, for requests the client does not make
	clock *smartlic.FakeClock
}

// newFixture serves the real manager over the store open returns, and
// returns an operator's client of it.
func newFixture(t *testing.T, open func(*testing.T) *store.DB) *fixture {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	mgr, err := manager.New(context.Background(), open(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := mgr.CreateOperator(context.Background(), "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(mgr, httpapi.Options{}))
	t.Cleanup(srv.Close)
	return &fixture{c: client.New(srv.URL+"/", key, client.WithHTTPClient(srv.Client())), url: srv.URL, key: key, clock: clock}
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

// wantErr checks err is a *smartlic.Error with this code and field, as the
// in-process manager would return it.
func wantErr(t *testing.T, err error, code, field string) {
	t.Helper()
	var e *smartlic.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *smartlic.Error", err, err)
	}
	if e.Code != code || e.Field != field || e.Message == "" {
		t.Fatalf("error = %+v, want code %q field %q and a message", e, code, field)
	}
}

// listAll pages through a list one item at a time, checking the cursors.
func listAll[T any](t *testing.T, list func(smartlic.Page) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	p := smartlic.Page{Limit: 1}
	for range 100 {
		items, next, err := list(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		if len(items) != 1 {
			t.Fatalf("page of %d items with a next cursor, want 1", len(items))
		}
		p.After = next
	}
	t.Fatal("paging does not end")
	return nil
}

func TestClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Run("catalog", func(t *testing.T) { testCatalog(t, newFixture(t, open)) })
		t.Run("accounts", func(t *testing.T) { testAccounts(t, newFixture(t, open)) })
		t.Run("licenses and tokens", func(t *testing.T) { testLicensesAndTokens(t, newFixture(t, open)) })
		t.Run("instances", func(t *testing.T) { testInstances(t, newFixture(t, open)) })
	})
}

func testCatalog(t *testing.T, f *fixture) {
	ctx, c := t.Context(), f.c
	na := must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{
		ID: "ignored", Tag: "network-advantage", Name: "Network Advantage", Description: "DNA", Term: smartlic.TermSubscription, Enforcement: smartlic.Enforced,
	}))
	if na.ID == "" || na.ID == "ignored" || na.CreatedAt.IsZero() || na.Enforcement != smartlic.Enforced || na.Description != "DNA" {
		t.Errorf("created %+v", na)
	}
	ne := must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "network-essentials", Name: "Network Essentials", Term: smartlic.TermPerpetual}))
	if ne.Enforcement != smartlic.Unenforced {
		t.Errorf("default enforcement %q", ne.Enforcement)
	}
	spare := must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "spare", Name: "Spare", Term: smartlic.TermPerpetual}))
	_, err := c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "spare", Name: "Spare again", Term: smartlic.TermPerpetual})
	wantErr(t, err, smartlic.EConflict, "tag")
	_, err = c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "Bad Tag", Name: "Bad", Term: smartlic.TermPerpetual})
	wantErr(t, err, smartlic.EInvalid, "tag")
	_, err = c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "no-term", Name: "No term"})
	wantErr(t, err, smartlic.EInvalid, "term")

	if got := must[smartlic.LicenseType](t)(c.GetLicenseType(ctx, "network-advantage")); got != na {
		t.Errorf("get by tag = %+v, want %+v", got, na)
	}
	if got := must[smartlic.LicenseType](t)(c.GetLicenseType(ctx, na.ID)); got != na {
		t.Errorf("get by id = %+v, want %+v", got, na)
	}
	_, err = c.GetLicenseType(ctx, "nope")
	wantErr(t, err, smartlic.ENotFound, "")
	lts := listAll(t, func(p smartlic.Page) ([]smartlic.LicenseType, string, error) { return c.ListLicenseTypes(ctx, p) })
	if len(lts) != 3 || lts[0] != na || lts[1] != ne || lts[2] != spare {
		t.Errorf("listed %+v", lts)
	}
	_, _, err = c.ListLicenseTypes(ctx, smartlic.Page{Limit: 1001})
	wantErr(t, err, smartlic.EInvalid, "limit")

	p := must[smartlic.Product](t)(c.CreateProduct(ctx, smartlic.Product{PID: "C9300-24T", Name: "Catalyst 9300", LicenseTypes: []string{"network-advantage"}}))
	if p.ID == "" || !slices.Equal(p.LicenseTypes, []string{"network-advantage"}) {
		t.Errorf("created %+v", p)
	}
	_, err = c.CreateProduct(ctx, smartlic.Product{PID: "C9200", Name: "Catalyst 9200", LicenseTypes: []string{"nope"}})
	wantErr(t, err, smartlic.EInvalid, "license_types")
	name, types := "Catalyst 9300 24-port", []string{"network-advantage", "network-essentials"}
	u := must[smartlic.Product](t)(c.UpdateProduct(ctx, "C9300-24T", smartlic.ProductUpdate{Name: &name, LicenseTypes: &types}))
	if u.Name != name || !slices.Equal(u.LicenseTypes, types) || u.ID != p.ID {
		t.Errorf("updated %+v", u)
	}
	if got := must[smartlic.Product](t)(c.GetProduct(ctx, p.ID)); got.Name != name {
		t.Errorf("get after update %+v", got)
	}
	must[smartlic.Product](t)(c.CreateProduct(ctx, smartlic.Product{PID: "C9200", Name: "Catalyst 9200"}))
	ps := listAll(t, func(pg smartlic.Page) ([]smartlic.Product, string, error) { return c.ListProducts(ctx, pg) })
	if len(ps) != 2 || ps[0].PID != "C9300-24T" || ps[1].PID != "C9200" {
		t.Errorf("listed %+v", ps)
	}

	wantErr(t, c.DeleteLicenseType(ctx, "network-essentials"), smartlic.EConflict, "license_type")
	if err := c.DeleteProduct(ctx, "C9200"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetProduct(ctx, "C9200")
	wantErr(t, err, smartlic.ENotFound, "")
	if err := c.DeleteLicenseType(ctx, spare.Tag); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.DeleteLicenseType(ctx, spare.Tag), smartlic.ENotFound, "")
}

func testAccounts(t *testing.T, f *fixture) {
	ctx, c := t.Context(), f.c
	req := must[smartlic.SmartAccount](t)(c.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Beta", Domain: "Beta.Example.com"}))
	if req.Status != smartlic.SARequested || req.Domain != "beta.example.com" {
		t.Errorf("requested %+v", req)
	}
	acme := must[smartlic.SmartAccount](t)(c.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example.com", Status: smartlic.SAActive}))
	if acme.Status != smartlic.SAActive {
		t.Errorf("created with approval: %+v", acme)
	}
	_, err := c.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme 2", Domain: "acme.example.com"})
	wantErr(t, err, smartlic.EConflict, "domain")
	if got := must[smartlic.SmartAccount](t)(c.ApproveSmartAccount(ctx, "beta.example.com")); got.Status != smartlic.SAActive {
		t.Errorf("approved %+v", got)
	}
	name, limited := "Beta Corp", true
	if got := must[smartlic.SmartAccount](t)(c.UpdateSmartAccount(ctx, req.ID, smartlic.SmartAccountUpdate{Name: &name, LimitedUse: &limited})); got.Name != name || !got.LimitedUse {
		t.Errorf("updated %+v", got)
	}
	if got := must[smartlic.SmartAccount](t)(c.GetSmartAccount(ctx, "acme.example.com")); got != acme {
		t.Errorf("get %+v, want %+v", got, acme)
	}
	sas := listAll(t, func(p smartlic.Page) ([]smartlic.SmartAccount, string, error) {
		return c.ListSmartAccounts(ctx, smartlic.SmartAccountFilter{}, p)
	})
	if len(sas) != 2 || sas[0].ID != req.ID || sas[1].ID != acme.ID {
		t.Errorf("listed %+v", sas)
	}
	_, err = c.CreateVirtualAccount(ctx, "beta.example.com", smartlic.VirtualAccountInput{Name: "More"})
	wantErr(t, err, smartlic.ELimitedUse, "")

	// The two names a URL path would resolve away are refused outright.
	for _, n := range []string{".", ".."} {
		_, err := c.CreateVirtualAccount(ctx, acme.Domain, smartlic.VirtualAccountInput{Name: n})
		wantErr(t, err, smartlic.EInvalid, "name")
	}
	// Names a person would choose: spaces, '&', '+', non-ASCII.
	emea := must[smartlic.VirtualAccount](t)(c.CreateVirtualAccount(ctx, "acme.example.com", smartlic.VirtualAccountInput{Name: "EMEA Sales", Description: "Europe"}))
	var children []smartlic.VirtualAccount
	for _, n := range []string{"R&D + QA", "Zürich Büro", "Lab 2", "O'Brien's team"} {
		children = append(children, must[smartlic.VirtualAccount](t)(c.CreateVirtualAccount(ctx, acme.Domain, smartlic.VirtualAccountInput{Name: n, Parent: "EMEA Sales"})))
	}
	for _, want := range append(children, emea) {
		got, err := c.GetVirtualAccount(ctx, acme.ID, want.Name)
		if err != nil || got != want {
			t.Errorf("get VA %q = %+v, %v; want %+v", want.Name, got, err, want)
		}
	}
	if children[0].ParentID != emea.ID || children[0].Depth != 2 {
		t.Errorf("child %+v", children[0])
	}
	vas := listAll(t, func(p smartlic.Page) ([]smartlic.VirtualAccount, string, error) {
		return c.ListVirtualAccounts(ctx, "acme.example.com", p)
	})
	if len(vas) != 6 || vas[0].Name != smartlic.DefaultVAName {
		t.Errorf("listed %+v", vas)
	}

	_, err = c.UpdateVirtualAccount(ctx, acme.Domain, "EMEA Sales", smartlic.VirtualAccountUpdate{Parent: ptr("R&D + QA")})
	wantErr(t, err, smartlic.ECycle, "parent")
	moved := must[smartlic.VirtualAccount](t)(c.UpdateVirtualAccount(ctx, acme.Domain, "O'Brien's team", smartlic.VirtualAccountUpdate{Name: ptr("Up & Out"), Parent: ptr("")}))
	if moved.Name != "Up & Out" || moved.ParentID != "" || moved.Depth != 1 {
		t.Errorf("moved %+v", moved)
	}
	if err := c.DeleteVirtualAccount(ctx, acme.Domain, "Up & Out"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetVirtualAccount(ctx, acme.Domain, "Up & Out")
	wantErr(t, err, smartlic.ENotFound, "va")
	wantErr(t, c.DeleteVirtualAccount(ctx, acme.Domain, "EMEA Sales"), smartlic.ENotEmpty, "va")

	_, err = c.GetSmartAccount(ctx, "nobody.example.com")
	wantErr(t, err, smartlic.ENotFound, "sa")
}

func testLicensesAndTokens(t *testing.T, f *fixture) {
	ctx, c := t.Context(), f.c
	must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "dna", Name: "DNA", Term: smartlic.TermSubscription}))
	must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "base", Name: "Base", Term: smartlic.TermPerpetual}))
	acme := must[smartlic.SmartAccount](t)(c.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example.com", Status: smartlic.SAActive}))
	must[smartlic.VirtualAccount](t)(c.CreateVirtualAccount(ctx, acme.Domain, smartlic.VirtualAccountInput{Name: "EMEA Sales"}))
	must[smartlic.VirtualAccount](t)(c.CreateVirtualAccount(ctx, acme.Domain, smartlic.VirtualAccountInput{Name: "DACH Team", Parent: "EMEA Sales"}))

	end := epoch.Add(365 * smartlic.Day)
	d1 := must[smartlic.Deposit](t)(c.CreateDeposit(ctx, acme.Domain, "EMEA Sales", smartlic.DepositInput{OrderNumber: "SO-1", License: "dna", Quantity: 10, EndsAt: &end}))
	if d1.Quantity != 10 || d1.LicenseTag != "dna" || d1.EndsAt == nil || !d1.EndsAt.Equal(end) || !d1.StartsAt.Equal(epoch) {
		t.Errorf("deposit %+v", d1)
	}
	must[smartlic.Deposit](t)(c.CreateDeposit(ctx, acme.Domain, "EMEA Sales", smartlic.DepositInput{OrderNumber: "SO-2", License: "base", Quantity: 4}))
	must[smartlic.Deposit](t)(c.CreateDeposit(ctx, acme.Domain, "DACH Team", smartlic.DepositInput{OrderNumber: "SO-3", License: "base", Quantity: 3}))
	_, err := c.CreateDeposit(ctx, acme.Domain, "EMEA Sales", smartlic.DepositInput{OrderNumber: "SO-4", License: "dna", Quantity: 0})
	wantErr(t, err, smartlic.EInvalid, "quantity")
	_, err = c.CreateDeposit(ctx, acme.Domain, "EMEA Sales", smartlic.DepositInput{OrderNumber: "SO-4", License: "dna", Quantity: 1})
	wantErr(t, err, smartlic.EInvalid, "ends_at")
	deps := listAll(t, func(p smartlic.Page) ([]smartlic.Deposit, string, error) {
		return c.ListDeposits(ctx, acme.Domain, "EMEA Sales", p)
	})
	if len(deps) != 2 || deps[0].ID != d1.ID {
		t.Errorf("deposits %+v", deps)
	}

	purchased := func(pools []smartlic.Pool) map[string]int64 {
		m := map[string]int64{}
		for _, p := range pools {
			m[p.LicenseTag] += p.Purchased
		}
		return m
	}
	own := must[[]smartlic.Pool](t)(c.ListPools(ctx, acme.Domain, "EMEA Sales", false))
	rolled := must[[]smartlic.Pool](t)(c.ListPools(ctx, acme.Domain, "EMEA Sales", true))
	whole := must[[]smartlic.Pool](t)(c.ListAccountPools(ctx, acme.ID))
	if got := purchased(own); got["dna"] != 10 || got["base"] != 4 {
		t.Errorf("own pools %+v", own)
	}
	if got := purchased(rolled); got["dna"] != 10 || got["base"] != 7 || len(rolled) != 2 {
		t.Errorf("rolled-up pools %+v", rolled)
	}
	if got := purchased(whole); got["base"] != 7 || len(whole) != 2 {
		t.Errorf("account pools %+v", whole)
	}
	if empty := must[[]smartlic.Pool](t)(c.ListPools(ctx, acme.Domain, smartlic.DefaultVAName, false)); len(empty) != 0 {
		t.Errorf("DEFAULT pools %+v", empty)
	}

	maxUses := int64(2)
	tok := must[smartlic.Token](t)(c.CreateToken(ctx, acme.Domain, "DACH Team", smartlic.TokenInput{Description: "lab", ExpiresInDays: 30, MaxUses: &maxUses, AllowExportControlled: true}))
	if tok.Secret == "" || !tok.ExpiresAt.Equal(epoch.Add(30*smartlic.Day)) || *tok.MaxUses != 2 || !tok.AllowExportControlled {
		t.Errorf("token %+v", tok)
	}
	tok2 := must[smartlic.Token](t)(c.CreateToken(ctx, acme.Domain, "DACH Team", smartlic.TokenInput{Description: "one day", ExpiresInDays: 1}))
	_, err = c.CreateToken(ctx, acme.Domain, "DACH Team", smartlic.TokenInput{Description: "none", ExpiresInDays: 0})
	wantErr(t, err, smartlic.EInvalid, "expires_in_days")
	got := must[smartlic.Token](t)(c.GetToken(ctx, acme.Domain, "DACH Team", tok.ID))
	if got.Secret != "" || got.ID != tok.ID || got.Description != "lab" {
		t.Errorf("get token %+v (the secret is shown once)", got)
	}
	toks := listAll(t, func(p smartlic.Page) ([]smartlic.Token, string, error) {
		return c.ListTokens(ctx, acme.Domain, "DACH Team", p)
	})
	if len(toks) != 2 || toks[0].ID != tok.ID || toks[1].ID != tok2.ID || toks[0].Secret != "" {
		t.Errorf("tokens %+v", toks)
	}
	revoked := must[smartlic.Token](t)(c.RevokeToken(ctx, acme.Domain, "DACH Team", tok.ID))
	if revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(epoch) {
		t.Errorf("revoked %+v", revoked)
	}
	_, err = c.GetToken(ctx, acme.Domain, "EMEA Sales", tok.ID)
	wantErr(t, err, smartlic.ENotFound, "")
}

func testInstances(t *testing.T, f *fixture) {
	ctx, c := t.Context(), f.c
	must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "base", Name: "Base", Term: smartlic.TermPerpetual}))
	must[smartlic.Product](t)(c.CreateProduct(ctx, smartlic.Product{PID: "ISR4K/X+1", Name: "ISR", LicenseTypes: []string{"base"}}))
	acme := must[smartlic.SmartAccount](t)(c.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example.com", Status: smartlic.SAActive}))
	must[smartlic.VirtualAccount](t)(c.CreateVirtualAccount(ctx, acme.Domain, smartlic.VirtualAccountInput{Name: "Branch Offices"}))
	tok := must[smartlic.Token](t)(c.CreateToken(ctx, acme.Domain, "Branch Offices", smartlic.TokenInput{Description: "branches", ExpiresInDays: 30}))
	keys := must[smartlic.PublicKeySet](t)(c.PublicKeys(ctx))

	var certs []smartlic.IDCert
	for _, sn := range []string{"FOC1", "FOC2", "FOC3"} {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		udi := smartlic.UDI{PID: "ISR4K/X+1", SN: sn}
		env := must[smartlic.Envelope](t)(sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(pub), priv,
			smartlic.RegisterRequest{Token: tok.Secret, UDI: udi, Hostname: "br-" + sn, PublicKey: pub, SentAt: f.clock.Now()}))
		answer := must[smartlic.Envelope](t)(c.Register(ctx, env))
		var cert smartlic.IDCert
		if err := sign.Open(answer, smartlic.TypeIDCert, sign.NewKeySet(keys.Keys), &cert); err != nil {
			t.Fatal(err)
		}
		certs = append(certs, cert)

		// A request the manager cannot verify keeps its protocol code.
		env.Sig[0] ^= 1
		_, err := c.Register(ctx, env)
		wantErr(t, err, smartlic.ESignature, "sig")
	}

	insts := listAll(t, func(p smartlic.Page) ([]smartlic.Instance, string, error) {
		return c.ListInstances(ctx, acme.Domain, "Branch Offices", p)
	})
	if len(insts) != 3 || insts[0].ID != certs[0].InstanceID || insts[0].Hostname != "br-FOC1" {
		t.Errorf("instances %+v", insts)
	}
	byUDI := must[smartlic.Instance](t)(c.GetInstance(ctx, acme.Domain, "Branch Offices", "ISR4K/X+1:FOC2"))
	byID := must[smartlic.Instance](t)(c.GetInstance(ctx, acme.ID, "Branch Offices", certs[1].InstanceID))
	if byUDI.ID != certs[1].InstanceID || byID.UDI.String() != "ISR4K/X+1:FOC2" {
		t.Errorf("by UDI %+v, by id %+v", byUDI, byID)
	}
	_, err := c.GetInstance(ctx, acme.Domain, smartlic.DefaultVAName, "ISR4K/X+1:FOC2")
	wantErr(t, err, smartlic.ENotFound, "")
	if err := c.RemoveInstance(ctx, acme.Domain, "Branch Offices", "ISR4K/X+1:FOC2"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetInstance(ctx, acme.Domain, "Branch Offices", byID.ID)
	wantErr(t, err, smartlic.ENotFound, "")
	wantErr(t, c.RemoveInstance(ctx, acme.Domain, "Branch Offices", "ISR4K/X+1:FOC2"), smartlic.ENotFound, "")
}

func ptr[T any](v T) *T { return &v }

func TestHealthAndOpenAPI(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	if err := f.c.Health(t.Context()); err != nil {
		t.Fatal(err)
	}
	doc := must[[]byte](t)(f.c.OpenAPI(t.Context()))
	var m struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &m); err != nil || m.Paths["/api/v1/accounts"] == nil {
		t.Fatalf("OpenAPI document: %v, paths %v", err, m.Paths)
	}
	// Both are public: a client without a key reaches them too.
	anon := client.New(f.url, "")
	if err := anon.Health(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, err := anon.ListSmartAccounts(t.Context(), smartlic.SmartAccountFilter{}, smartlic.Page{})
	wantErr(t, err, smartlic.EUnauthorized, "")
	_, _, err = client.New(f.url, "slk_wrong").ListLicenseTypes(t.Context(), smartlic.Page{})
	wantErr(t, err, smartlic.EUnauthorized, "")
}

// TestNoRequestWithoutAddress: an empty identifier cannot make a URL, so
// nothing is sent and the error is the manager's.
func TestNoRequestWithoutAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, "slk_x")
	ctx := t.Context()
	_, err := c.GetSmartAccount(ctx, "")
	wantErr(t, err, smartlic.EInvalid, "sa")
	_, err = c.GetVirtualAccount(ctx, "acme.example.com", " ")
	wantErr(t, err, smartlic.EInvalid, "va")
	_, err = c.GetToken(ctx, "acme.example.com", "DEFAULT", "")
	wantErr(t, err, smartlic.ENotFound, "")
	wantErr(t, c.DeleteLicenseType(ctx, ""), smartlic.ENotFound, "")
}

// TestForeignAnswers: an answer that is not the API's (a proxy's page)
// still arrives as a *smartlic.Error with a code from its status.
func TestForeignAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		code   string
	}{
		{http.StatusBadGateway, "<html>bad gateway</html>", smartlic.EInternal},
		{http.StatusNotFound, "404 page not found", smartlic.ENotFound},
		{http.StatusUnauthorized, `{"message":"no"}`, smartlic.EUnauthorized},
		{http.StatusConflict, `{"error":{"code":"conflict","message":"taken","field":"domain"}}`, smartlic.EConflict},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		}))
		_, err := client.New(srv.URL, "slk_x").GetSmartAccount(t.Context(), "acme.example.com")
		srv.Close()
		var e *smartlic.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Message == "" {
			t.Errorf("%d %s: error %#v, want code %q", tc.status, tc.body, err, tc.code)
		}
	}
	// No server at all: an error, but not one the server said.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, err := client.New(srv.URL, "slk_x").GetSmartAccount(t.Context(), "acme.example.com")
	if err == nil || smartlic.ErrorCode(err) != smartlic.EInternal {
		t.Errorf("unreachable server: %v", err)
	}
}
