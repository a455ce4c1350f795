package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// device registers a simulated product instance with a token secret and
// reports usage of network-advantage.
func (p *portal) device(secret, sn, host string, uses int64) *agent.Agent {
	p.t.Helper()
	ctx := context.Background()
	dev, err := agent.New(agent.Options{Server: p.url, Clock: p.clock, Store: agent.MemoryState(),
		UDI: smartlic.UDI{PID: "C9300-24T", SN: sn}, Hostname: host})
	if err != nil {
		p.t.Fatal(err)
	}
	if err := dev.Register(ctx, secret, false); err != nil {
		p.t.Fatalf("register %s: %v", sn, err)
	}
	if uses > 0 {
		if err := dev.SetUsage("network-advantage", uses); err != nil {
			p.t.Fatal(err)
		}
		if err := dev.Authorize(ctx); err != nil {
			p.t.Fatal(err)
		}
	}
	return dev
}

// token makes a registration token in a VA as the operator.
func (p *portal) token(sa, va string) string {
	p.t.Helper()
	return must[smartlic.Token](p.t)(p.mgr.CreateToken(p.op, sa, va, smartlic.TokenInput{Description: "switches of " + va, ExpiresInDays: 30})).Secret
}

// Product Instances: search, the instance's page with its usage beside the
// pool and its history, a transfer from the page and of several ticked on
// the list, and removal after a confirmation.
func TestProductInstances(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		tok := p.token(sa.Domain, "Building A")
		p.device(tok, "FOC0001", "bldg-a-sw1", 3)
		p.device(tok, "FOC0002", "bldg-a-sw2", 1)
		p.device(tok, "FOC0003", "bldg-a-core", 0)

		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.open("/sa/acme.example/va/Building%20A/general")
		b.press("Product Instances")
		if got := b.text("main table tbody"); !strings.Contains(got, "C9300-24T:FOC0001") || !strings.Contains(got, "bldg-a-core") {
			t.Fatalf("instances of Building A = %q", got)
		}
		b.screenshot("instances")

		b.fill("Search", "sw2")
		b.press("Search instances")
		if got := b.cells("main table tbody tr"); len(got) < 3 || got[1] != "C9300-24T:FOC0002" || got[2] != "bldg-a-sw2" {
			t.Fatalf("search sw2 = %q", got)
		}
		if b.has("main table tbody tr:nth-child(2)") {
			t.Fatal("search sw2 shows more than one instance")
		}
		b.fill("Search", "x")
		b.press("Search instances")
		if got := b.fieldError("Search"); !strings.Contains(got, "at least 2") {
			t.Fatalf("one-letter search error = %q", got)
		}
		// Campus alone has none; rolled up, Building A's.
		b.open("/sa/acme.example/va/Campus/instances")
		if got := b.text("main"); !strings.Contains(got, "No product instances in Campus itself") {
			t.Fatalf("Campus = %q", got)
		}
		b.press("Include the Virtual Accounts below it")
		if got := b.text("main table tbody"); !strings.Contains(got, "FOC0001") || !strings.Contains(got, "Building A") {
			t.Fatalf("Campus rolled up = %q", got)
		}

		// The instance's page.
		b.press("C9300-24T:FOC0001")
		if got := strings.Join(strings.Fields(b.text("main h1")), " "); got != "Product instance C9300-24T:FOC0001" {
			t.Fatalf("instance heading = %q", got)
		}
		if got := b.cells("main section:nth-of-type(2) table tbody tr"); len(got) != 4 || got[0] != "network-advantage" || got[1] != "3" ||
			got[2] != "Authorized" || !strings.HasPrefix(got[3], "In compliance 4 in use of 4") {
			t.Fatalf("usage line = %q", got)
		}
		if got := b.text("main"); !strings.Contains(got, "instance.registered") || !strings.Contains(got, "instance.usage_changed") {
			t.Fatalf("history = %q", got)
		}
		b.screenshot("instance")

		// Transfer it to Lab from its page.
		b.selectOption("Transfer to Virtual Account", "Lab")
		b.press("Transfer")
		if got := b.text(".flash"); got != "Moved 1 product instance from Building A to Lab." {
			t.Fatalf("flash = %q", got)
		}
		if got := strings.Join(strings.Fields(b.text("main dl")), " "); !strings.Contains(got, "Virtual Account Lab") {
			t.Fatalf("after transfer = %q", got)
		}
		// Lab has no licenses: the usage is out of compliance there.
		if got := b.cells("main section:nth-of-type(2) table tbody tr"); len(got) != 4 || got[2] != "Out of compliance" || !strings.HasPrefix(got[3], "Insufficient") {
			t.Fatalf("usage in Lab = %q", got)
		}

		// Several at once from the list, and one of them only once.
		b.open("/sa/acme.example/va/Building%20A/instances")
		b.check("Select C9300-24T:FOC0002")
		b.check("Select C9300-24T:FOC0003")
		b.press("Transfer selected")
		if got := b.fieldError("To Virtual Account"); got == "" {
			t.Fatal("transfer with no destination: no error beside the field")
		}
		b.selectOption("To Virtual Account", "Lab")
		b.press("Transfer selected")
		if got := b.text(".flash"); got != "Moved 2 product instances from Building A to Lab." {
			t.Fatalf("flash = %q", got)
		}
		if got := b.text("main"); !strings.Contains(got, "No product instances in Building A itself") {
			t.Fatalf("Building A after the transfer = %q", got)
		}

		// Remove, after confirming.
		b.open("/sa/acme.example/instances/C9300-24T:FOC0003")
		b.press("Remove this instance…")
		if got := b.text("main h1"); got != "Remove C9300-24T:FOC0003?" {
			t.Fatalf("confirmation = %q", got)
		}
		b.press("Cancel")
		b.press("Remove this instance…")
		b.press("Remove instance")
		if got := b.text(".flash"); !strings.HasPrefix(got, "Removed C9300-24T:FOC0003") {
			t.Fatalf("flash = %q", got)
		}
		if _, err := p.mgr.GetInstance(p.op, sa.Domain, "Lab", "C9300-24T:FOC0003"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("removed instance: %v", err)
		}
		if got := b.text("main table tbody"); strings.Contains(got, "FOC0003") || !strings.Contains(got, "FOC0002") {
			t.Fatalf("Lab after the removal = %q", got)
		}

		// A remove without the CSRF token is refused.
		res, err := http.PostForm(p.url+"/sa/acme.example/instances/C9300-24T:FOC0002/remove", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if _, err := p.mgr.GetInstance(p.op, sa.Domain, "Lab", "C9300-24T:FOC0002"); err != nil {
			t.Fatalf("a forged remove removed the instance: %v (status %d)", err, res.StatusCode)
		}
	})
}

// Event Log: filters, CSV, and "Verify chain" naming the Smart Account,
// intact and then tampered with.
func TestEventLog(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteDSN, "postgres": storetest.PostgresDSN} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testEventLog(t, dsn(t))
		})
	}
}

func testEventLog(t *testing.T, dsn string) {
	{
		p := newPortal(t, func(t *testing.T) *store.DB { return storetest.Open(t, dsn) })
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		p.user("campus@acme.example", smartlic.RoleVAAdmin, sa.Domain, "Campus")
		tok := p.token(sa.Domain, "Building A")
		p.device(tok, "FOC0001", "bldg-a-sw1", 1)

		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.open("/sa/acme.example/va/Building%20A/events")
		body := b.text("main table tbody")
		for _, want := range []string{"token.created", "instance.registered", "instance.usage_changed"} {
			if !strings.Contains(body, want) {
				t.Fatalf("Building A's log lacks %s: %q", want, body)
			}
		}
		if strings.Contains(body, "account.created") {
			t.Fatalf("Building A's log shows the account's own events: %q", body)
		}
		b.fill("Event type", "instance.")
		b.press("Filter")
		if got := b.text("main table tbody"); strings.Contains(got, "token.created") || !strings.Contains(got, "instance.registered") {
			t.Fatalf("type filter = %q", got)
		}
		b.fill("User", "ops@vendor.example")
		b.press("Filter")
		if got := b.text("main"); !strings.Contains(got, "No events match") {
			t.Fatalf("actor filter (the device acted) = %q", got)
		}
		b.fill("User", "")
		b.fill("From", "2026-13-40")
		b.press("Filter")
		if got := b.fieldError("From"); !strings.Contains(got, "must be a date") {
			t.Fatalf("bad date error = %q", got)
		}
		b.fill("From", "")
		b.fill("Event type", "")
		b.check("The whole Smart Account")
		b.press("Filter")
		if got := b.text("main table tbody"); !strings.Contains(got, "account.created") {
			t.Fatalf("whole account log = %q", got)
		}

		// CSV of what the page shows (the whole account), with the
		// session's cookie; then of the VA's instance events only.
		csv := b.fetch(b.attr(`main a[download]`, "href"))
		if !strings.HasPrefix(csv, "seq,at,type,") || !strings.Contains(csv, "account.created") || !strings.Contains(csv, "instance.registered") {
			t.Fatalf("CSV = %q", csv)
		}
		csv = b.fetch("/sa/acme.example/va/Building%20A/events?type=instance.&format=csv")
		if !strings.Contains(csv, "instance.registered") || strings.Contains(csv, "token.created") || strings.Contains(csv, "account.created") {
			t.Fatalf("CSV = %q", csv)
		}

		b.press("Verify chain")
		if got := b.text(".verdicts"); !strings.HasPrefix(got, "Intact: the event log of acme.example verifies") {
			t.Fatalf("verdict = %q", got)
		}
		b.screenshot("events-verified")

		// Someone edits an entry in the database: the page says so.
		raw := openRaw(t, dsn)
		q := `UPDATE events SET message = 'nothing happened' WHERE chain = ? AND seq = 2`
		if strings.HasPrefix(dsn, "postgres") {
			q = strings.Replace(q, "?", "$1", 1)
		}
		if _, err := raw.Exec(q, sa.ID); err != nil {
			t.Fatal(err)
		}
		b.press("Verify chain")
		if got := b.text(".verdicts"); !strings.HasPrefix(got, "Tampered: the event log of acme.example does not verify at entry 2") {
			t.Fatalf("verdict after tampering = %q", got)
		}
		b.screenshot("events-tampered")

		// A VA administrator has no event log to read.
		c := newBrowser(t, p)
		c.signIn("campus@acme.example", testPassword)
		c.open("/sa/acme.example/va/Campus/events")
		if got := c.text("main"); !strings.Contains(got, "event log is for Smart Account administrators") {
			t.Fatalf("VA admin's Event Log = %q", got)
		}
	}
}

// openRaw opens the test's database directly, to tamper with it as
// someone with access to the database would.
func openRaw(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Del("pool_max_conns") // the store's own parameter
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// attr is an attribute of the first element the CSS selector matches.
func (b *browser) attr(css, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(css)+`) || {getAttribute: () => ""}).getAttribute(`+jsString(name)+`) || ""`))
	if err != nil || v == "" {
		b.t.Fatalf("no %s on %s on %s (%v)", name, css, b.location(), err)
	}
	return v
}

// Search finds instances, tokens and deposits, each linking to its page;
// a license type's page shows its pools, deposits and instances.
func TestSearchAndLicenseType(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		p.device(p.token(sa.Domain, "Building A"), "FOC0001", "bldg-a-sw1", 2)

		b := newBrowser(t, p)
		b.signIn("user@acme.example", testPassword)
		b.fill("Search UDI, serial number, hostname, PID, token or order", "so-1")
		b.press("Search")
		if got := b.text("main"); !strings.Contains(got, "Deposits") || !strings.Contains(got, "SO-1") {
			t.Fatalf("search so-1 = %q", got)
		}
		b.fill("Find", "bldg-a")
		b.press("Find")
		if got := b.links("main"); !slices.Contains(got, "C9300-24T:FOC0001") {
			t.Fatalf("search bldg-a links = %q", got)
		}
		b.fill("Find", "Building A")
		b.press("Find")
		if got := b.links("main"); !slices.Contains(got, "switches of Building A") {
			t.Fatalf("token search links = %q", got)
		}
		b.screenshot("search")
		b.fill("Find", "bldg-a")
		b.press("Find")
		b.press("C9300-24T:FOC0001")
		if got := strings.Join(strings.Fields(b.text("main h1")), " "); got != "Product instance C9300-24T:FOC0001" {
			t.Fatalf("result opens %q", got)
		}

		// The license type's page, from the Licenses tab.
		b.open("/sa/acme.example/va/Building%20A/licenses")
		b.press("Network Advantage")
		if got := b.cells("main section:nth-of-type(1) table tbody tr"); len(got) < 5 || got[0] != "Building A" || !slices.Equal(got[1:4], []string{"4", "2", "2"}) {
			t.Fatalf("pool row = %q", got)
		}
		if got := b.cells("main section:nth-of-type(2) table tbody tr"); len(got) < 3 || got[1] != "SO-1" || got[2] != "4" {
			t.Fatalf("deposit row = %q", got)
		}
		if got := b.links("main section:nth-of-type(3)"); !slices.Equal(got, []string{"C9300-24T:FOC0001"}) {
			t.Fatalf("instances using it = %q", got)
		}
		b.screenshot("license-type")

		// A Lab user finds nothing of Building A, by search or by address.
		c := newBrowser(t, p)
		c.signIn("lab@acme.example", testPassword)
		c.open("/search?q=FOC0001")
		if got := c.text("main"); !strings.Contains(got, "Nothing matches") {
			t.Fatalf("Lab user's search = %q", got)
		}
		c.open("/sa/acme.example/instances/C9300-24T:FOC0001")
		if got := c.text("main h1"); got != "Not found" {
			t.Fatalf("Lab user opening Building A's instance = %q", got)
		}
		c.open("/sa/acme.example/va/Building%20A/instances")
		if got := c.text("main h1"); got != "Not allowed" {
			t.Fatalf("Lab user opening Building A's instances = %q", got)
		}
		c.open("/sa/acme.example/licenses/network-advantage")
		if got := c.text("main"); strings.Contains(got, "Building A") || strings.Contains(got, "FOC0001") {
			t.Fatalf("Lab user's license page shows Building A: %q", got)
		}
	})
}
