package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// The seed walkthrough (shared/seeds/001) end to end in the browser: an
// SA administrator creates a VA, generates a token and reads it off the
// page, a device registers with it, its usage shows under Product
// Instances and Licenses, usage past what was purchased shows
// Insufficient and its alert, the instance is transferred from the page
// and the event log verifies from the page. Then a VA user of another VA can neither
// see nor move it, by the pages or by typing addresses.
func TestSeedWalkthrough(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)

		// Create a VA for the ISE deployment, under Campus.
		b.press("Administration")
		b.fill("Name", "ISE")
		b.selectOption("Parent", "Campus")
		b.press("Create Virtual Account")
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "ISE", smartlic.DepositInput{OrderNumber: "SO-ISE", License: "network-advantage", Quantity: 2}))

		// Generate a token and copy it off the page.
		b.open("/sa/acme.example/va/ISE/general")
		b.fill("Description", "ISE nodes")
		b.press("Create token")
		secret := b.value("token-secret")
		b.screenshot("token")

		// Register the device with it and report usage.
		dev := p.device(secret, "ISE0001", "ise-1", 1)
		b.press("Product Instances")
		if got := b.cells("main table tbody tr"); len(got) < 5 || got[1] != "C9300-24T:ISE0001" || got[2] != "ise-1" || got[4] != "Authorized" {
			t.Fatalf("instance row = %q", got)
		}
		b.press("Licenses")
		if got := b.cells("main table tbody tr:nth-child(1)"); len(got) < 6 || !strings.HasPrefix(got[0], "Network Advantage") || !slices.Equal(got[1:6], []string{"2", "1", "0", "1", "In compliance"}) {
			t.Fatalf("licenses row = %q", got)
		}

		// Past what was purchased: insufficient, and the alert.
		if err := dev.SetUsage("network-advantage", 3); err != nil {
			t.Fatal(err)
		}
		if err := dev.Authorize(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.open("/sa/acme.example/va/ISE/licenses")
		if got := b.cells("main table tbody tr:nth-child(1)"); len(got) < 6 || !slices.Equal(got[1:6], []string{"2", "3", "0", "-1", "Insufficient"}) {
			t.Fatalf("licenses row in overage = %q", got)
		}
		b.screenshot("insufficient")
		// And the alert, on the Alerts page.
		b.open("/sa/acme.example/alerts?va=ISE")
		if got := b.cells("table.alerts tbody tr:nth-child(1)"); len(got) < 5 || got[0] != "Critical" || got[1] != "license.insufficient" ||
			got[2] != "ISE" || !strings.HasPrefix(got[3], "network-advantage") {
			t.Fatalf("first alert of ISE = %q, want its shortfall", got)
		}
		b.screenshot("alert")

		// Transfer the instance to Building A from its page.
		b.open("/sa/acme.example/va/ISE/instances")
		b.press("C9300-24T:ISE0001")
		b.selectOption("Transfer to Virtual Account", "Building A")
		b.press("Transfer")
		if got := b.text(".flash"); got != "Moved 1 product instance from ISE to Building A." {
			t.Fatalf("flash = %q", got)
		}
		if p := must[[]smartlic.Pool](t)(p.mgr.ListPools(p.op, sa.Domain, "Building A", false)); !slices.ContainsFunc(p, func(p smartlic.Pool) bool {
			return p.LicenseTag == "network-advantage" && p.InUse == 3
		}) {
			t.Fatalf("Building A pools after the transfer = %+v", p)
		}

		// Verify the event log.
		b.open("/sa/acme.example/va/ISE/events")
		b.press("Verify chain")
		if got := b.text(".verdicts"); !strings.HasPrefix(got, "Intact: the event log of acme.example verifies") {
			t.Fatalf("verdict = %q", got)
		}

		// A Lab user: not in the tree, not by address, not by a forged transfer.
		c := newBrowser(t, p)
		c.signIn("lab@acme.example", testPassword)
		if got := c.links(".tree"); !slices.Equal(got, []string{"Lab"}) {
			t.Fatalf("Lab user's tree = %q", got)
		}
		for _, path := range []string{"/sa/acme.example/va/Building%20A/instances", "/sa/acme.example/va/ISE/instances?rollup=1", "/sa/acme.example/va/Building%20A/events"} {
			c.open(path)
			if got := c.text("main h1"); got != "Not allowed" {
				t.Fatalf("%s shows %q to a Lab user", path, got)
			}
		}
		c.open("/sa/acme.example/instances/C9300-24T:ISE0001")
		if got := c.text("main h1"); got != "Not found" {
			t.Fatalf("Lab user opening the instance = %q", got)
		}
		// Pull it into Lab, and move it between two VAs not its own, with forms
		// made on the Lab user's own Product Instances page.
		inst := must[smartlic.Instance](t)(p.mgr.GetInstance(p.op, sa.Domain, "Building A", "C9300-24T:ISE0001"))
		bldg := must[smartlic.VirtualAccount](t)(p.mgr.GetVirtualAccount(p.op, sa.Domain, "Building A"))
		lab := must[smartlic.VirtualAccount](t)(p.mgr.GetVirtualAccount(p.op, sa.Domain, "Lab"))
		ise := must[smartlic.VirtualAccount](t)(p.mgr.GetVirtualAccount(p.op, sa.Domain, "ISE"))
		for _, to := range []string{lab.ID, ise.ID} {
			c.open("/sa/acme.example/va/Lab/instances")
			c.eval(`(() => {
				const f = document.createElement("form");
				f.method = "post"; f.action = "/sa/acme.example/va/Lab/instances/transfer";
				for (const [k, v] of [["csrf_token", document.querySelector("input[name=csrf_token]").value],
					["instances", ` + jsString(bldg.ID+"/"+inst.ID) + `], ["to", ` + jsString(to) + `]]) {
					const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i);
				}
				const b = document.createElement("button"); b.type = "submit"; b.textContent = "Forged transfer"; f.appendChild(b);
				document.querySelector("main").appendChild(f);
			})()`)
			c.press("Forged transfer")
			if got := c.text("main h1"); got != "Not allowed" {
				t.Fatalf("a Lab user's transfer from Building A to %s shows %q: %q", to, got, c.text("main"))
			}
		}
		if got := must[smartlic.Instance](t)(p.mgr.GetInstance(p.op, sa.Domain, "Building A", inst.ID)); got.VirtualAccountID != bldg.ID {
			t.Fatalf("the instance moved to %s", got.VirtualAccountID)
		}
	})
}
