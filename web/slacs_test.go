package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// hseck9Pool is Building A's pool of the export-controlled license.
func (p *portal) hseck9Pool(sa string) smartlic.Pool {
	p.t.Helper()
	for _, pl := range must[[]smartlic.Pool](p.t)(p.mgr.ListPools(p.op, sa, "Building A", false)) {
		if pl.LicenseTag == "hseck9" {
			return pl
		}
	}
	p.t.Fatal("no hseck9 pool in Building A")
	return smartlic.Pool{}
}

// An air-gapped router prints a SLAC request code; a user of the account
// pastes it on Export authorization and is refused while the vendor has
// not allowed export control; the operator presses Allow on Vendor › Smart
// Accounts; the user gets the SLAC authorization code, which the router
// installs and then uses the export-controlled license and 500 Mbps; the
// router's return code entered on the page gives the license back; Forbid
// stops the next issue. A registered router's online SLAC shows on its
// instance page. The operator enables PLR for the account and the product.
func TestSLACPortal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		ctx := context.Background()
		must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(p.op, smartlic.LicenseType{Tag: "hseck9", Name: "HSEC", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled}))
		must[smartlic.Product](t)(p.mgr.CreateProduct(p.op, smartlic.Product{PID: "ISR4451", Name: "ISR 4451", LicenseTypes: []string{"hseck9"}}))
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "SO-2", License: "hseck9", Quantity: 2}))
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		product := agent.ProductConfig{Licenses: map[string]smartlic.Enforcement{"hseck9": smartlic.ExportControlled}, ThroughputLicense: "hseck9"}
		router := func(sn string) *agent.Agent {
			a, err := agent.New(agent.Options{Server: p.url, Clock: p.clock, Store: agent.MemoryState(), UDI: smartlic.UDI{PID: "ISR4451", SN: sn}})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.ConfigureProduct(product); err != nil {
				t.Fatal(err)
			}
			return a
		}
		r1 := router("FOCAIR1")
		// Air-gapped: the manager's keys come from a file in real life.
		if err := r1.EnableReservation(ctx, nil); err != nil {
			t.Fatal(err)
		}
		request := must[string](t)(r1.RequestSLACCode("hseck9"))

		op := newBrowser(t, p)
		op.signIn("ops@vendor.example", p.opKey)
		op.open("/vendor/accounts")
		if row := rowWith(op, "acme.example"); !strings.Contains(strings.Join(row, "|"), "Forbidden Allow") {
			t.Fatalf("acme.example before the vendor allowed export control: %q", row)
		}

		b := newBrowser(t, p)
		b.signIn("user@acme.example", testPassword)
		b.press("Export authorization")
		if got := b.text(".export-control"); !strings.Contains(got, "Not allowed") {
			t.Fatalf("export control shown as %q", got)
		}
		b.fill("SLAC request code", request)
		b.selectOption("Virtual Account", "— Building A")
		b.press("Issue SLAC")
		if got := b.fieldError("SLAC request code"); !strings.Contains(got, "not allowed export-controlled") {
			t.Fatalf("error before the vendor allowed it = %q", got)
		}
		if pl := p.hseck9Pool(sa.Domain); pl.InUse != 0 {
			t.Fatalf("pool after a refusal: %+v", pl)
		}

		op.press("Allow export control for acme.example")
		if got := op.text(".flash"); !strings.Contains(got, "allowed for acme.example") {
			t.Fatalf("flash after Allow = %q", got)
		}
		if row := rowWith(op, "acme.example"); !strings.Contains(strings.Join(row, "|"), "Allowed Forbid") {
			t.Fatalf("acme.example after Allow: %q", row)
		}

		// A mistyped code is refused beside its input; then the real one.
		typo := []byte(request)
		i := len(typo) - 3
		for typo[i] == '-' {
			i--
		}
		typo[i] = map[bool]byte{true: 'A', false: 'B'}[typo[i] != 'A']
		b.fill("SLAC request code", string(typo))
		b.press("Issue SLAC")
		if got := b.fieldError("SLAC request code"); !strings.Contains(got, "mistyped") {
			t.Fatalf("error beside a mistyped code = %q", got)
		}
		b.fill("SLAC request code", request)
		b.fill("License (optional check)", "hseck9")
		b.selectOption("Virtual Account", "— Building A")
		b.press("Issue SLAC")
		if got := b.text(".flash"); !strings.Contains(got, "SLAC for hseck9 issued to ISR4451:FOCAIR1") {
			t.Fatalf("flash after issuing = %q", got)
		}
		if !b.has(`button[data-copy="slac-authorization-code"]`) {
			t.Fatal("no Copy button beside the SLAC authorization code")
		}
		code := strings.TrimSpace(b.value("slac-authorization-code"))
		b.screenshot("slac")
		if pl := p.hseck9Pool(sa.Domain); pl.InUse != 1 || pl.Available != 1 {
			t.Fatalf("pool after the SLAC: %+v", pl)
		}

		// The router installs it and may use the license and 500 Mbps.
		if err := r1.SetThroughput(500); smartlic.ErrorCode(err) != smartlic.EExportControl {
			t.Fatalf("500 Mbps before the SLAC: %v", err)
		}
		if _, err := r1.InstallSLAC(code); err != nil {
			t.Fatal(err)
		}
		if err := r1.SetUsage("hseck9", 1); err != nil {
			t.Fatal(err)
		}
		if err := r1.SetThroughput(500); err != nil {
			t.Fatal(err)
		}
		b.press("Export authorization")
		if row := rowWith(b, "ISR4451:FOCAIR1"); len(row) < 5 || row[1] != "hseck9" || row[2] != "Building A" || row[3] != "Active" || row[4] != "Offline" {
			t.Fatalf("SLAC row = %q", row)
		}

		// The router gives it back with a return code.
		if err := r1.SetUsage("hseck9", 0); err != nil {
			t.Fatal(err)
		}
		if err := r1.SetThroughput(100); err != nil {
			t.Fatal(err)
		}
		ret := must[string](t)(r1.ReturnSLACCode("hseck9"))
		b.fill("SLAC return code", ret)
		b.press("Return SLAC")
		if got := b.text(".flash"); !strings.Contains(got, "returned: its license is back in Building A") {
			t.Fatalf("flash after the return code = %q", got)
		}
		if pl := p.hseck9Pool(sa.Domain); pl.InUse != 0 || pl.Available != 2 {
			t.Fatalf("pool after the return: %+v", pl)
		}
		b.press("Export authorization")
		b.fill("SLAC return code", ret)
		b.press("Return SLAC")
		if got := b.fieldError("SLAC return code"); !strings.Contains(got, "already returned") {
			t.Fatalf("error for a second return = %q", got)
		}

		// Forbid: the manager issues no more.
		op.press("Forbid export control for acme.example")
		b.fill("SLAC request code", must[string](t)(r1.RequestSLACCode("hseck9")))
		b.press("Issue SLAC")
		if got := b.fieldError("SLAC request code"); !strings.Contains(got, "not allowed export-controlled") {
			t.Fatalf("error after Forbid = %q", got)
		}
		if pl := p.hseck9Pool(sa.Domain); pl.InUse != 0 {
			t.Fatalf("pool after Forbid: %+v", pl)
		}

		// A registered router's online SLAC is on its instance page.
		op.press("Allow export control for acme.example")
		tok := must[smartlic.Token](t)(p.mgr.CreateToken(p.op, sa.Domain, "Building A", smartlic.TokenInput{Description: "routers", ExpiresInDays: 30, AllowExportControlled: true}))
		r2 := router("FOCREG2")
		if err := r2.Register(ctx, tok.Secret, false); err != nil {
			t.Fatal(err)
		}
		if err := r2.RequestSLAC(ctx, "hseck9"); err != nil {
			t.Fatal(err)
		}
		b.open("/sa/acme.example/instances/ISR4451:FOCREG2")
		if got := b.text("section[aria-labelledby=inst-slacs]"); !strings.Contains(got, "hseck9") || !strings.Contains(got, "Active") || !strings.Contains(got, "Online") {
			t.Fatalf("SLACs on the instance page = %q", got)
		}

		// A VA user of Building A sees its VA's SLACs, and taking the
		// license from the default (DEFAULT, not its VA) is refused beside
		// the choice of Virtual Account.
		p.user("va@acme.example", smartlic.RoleVAUser, sa.Domain, "Building A")
		v := newBrowser(t, p)
		v.signIn("va@acme.example", testPassword)
		v.open("/sa/acme.example/slacs")
		if row := rowWith(v, "ISR4451:FOCREG2"); len(row) < 4 || row[3] != "Active" {
			t.Fatalf("the VA user's SLAC list: %q", row)
		}
		v.fill("SLAC request code", must[string](t)(router("FOCVA3").RequestSLACCode("hseck9")))
		v.press("Issue SLAC")
		if got := v.fieldError("Virtual Account"); !strings.Contains(got, "Choose a Virtual Account you work in") {
			t.Fatalf("error beside the Virtual Account = %q", got)
		}

		// PLR: the operator enables it for the account and the product.
		op.press("Enable permanent reservation for acme.example")
		if s := must[smartlic.ReservationSettings](t)(p.mgr.ReservationSettingsOfAccount(p.op, sa.Domain)); !s.Permanent {
			t.Fatal("PLR not enabled for the account")
		}
		op.open("/vendor/catalog/products/ISR4451")
		op.press("Enable permanent reservation")
		if got := op.text(".flash"); !strings.Contains(got, "enabled for product ISR4451") {
			t.Fatalf("flash after enabling PLR for the product = %q", got)
		}
		if s := must[smartlic.ReservationSettings](t)(p.mgr.ReservationSettingsOfProduct(p.op, "ISR4451")); !s.Permanent {
			t.Fatal("PLR not enabled for the product")
		}
	})
}

// A user whose roles are on two Virtual Accounts (one with a sub-VA) sees
// on Export authorization the SLACs of both, the sub-VA's included, and
// not those of a third VA.
func TestSLACPortalListOfSeveralVAs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		must[smartlic.VirtualAccount](t)(p.mgr.CreateVirtualAccount(p.op, sa.Domain, smartlic.VirtualAccountInput{Name: "Branch"}))
		must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(p.op, smartlic.LicenseType{Tag: "hseck9", Name: "HSEC", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled}))
		must[smartlic.Product](t)(p.mgr.CreateProduct(p.op, smartlic.Product{PID: "ISR4451", Name: "ISR 4451", LicenseTypes: []string{"hseck9"}}))
		must[smartlic.ExportControl](t)(p.mgr.SetExportControl(p.op, sa.Domain, true))
		for sn, va := range map[string]string{"FOCBLDA": "Building A", "FOCLAB": "Lab", "FOCBRANCH": "Branch"} {
			must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, va, smartlic.DepositInput{OrderNumber: "SO-" + sn, License: "hseck9", Quantity: 1}))
			req := rescode.SLACRequest{UDI: smartlic.UDI{PID: "ISR4451", SN: sn}, LicenseTag: "hseck9", Nonce: make([]byte, rescode.SLACNonceBytes), ReturnHash: make([]byte, 32)}
			copy(req.Nonce, sn)
			must[smartlic.SLAC](t)(p.mgr.IssueSLAC(p.op, sa.Domain, smartlic.SLACIssueInput{RequestCode: req.Encode(), VirtualAccount: va}))
		}
		p.user("two@acme.example", smartlic.RoleVAUser, sa.Domain, "Campus")
		must[smartlic.RoleAssignment](t)(p.mgr.GrantRole(p.op, sa.Domain, smartlic.RoleInput{User: "two@acme.example", Role: smartlic.RoleVAUser, VA: "Lab"}))

		b := newBrowser(t, p)
		b.signIn("two@acme.example", testPassword)
		b.open("/sa/acme.example/slacs")
		if row := rowWith(b, "ISR4451:FOCBLDA"); len(row) < 3 || row[2] != "Building A" {
			t.Fatalf("the SLAC of Building A (under Campus): %q", row)
		}
		if row := rowWith(b, "ISR4451:FOCLAB"); len(row) < 3 || row[2] != "Lab" {
			t.Fatalf("the SLAC of Lab: %q", row)
		}
		if got := b.text("section[aria-labelledby=slac-list]"); strings.Contains(got, "FOCBRANCH") {
			t.Fatalf("a VA user sees the SLAC of a VA it has no role in: %q", got)
		}
	})
}
