package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// useDaily registers a device in va and reports its usage of tag, one
// count a day: the first today, each next one a day later on the portal's
// clock.
func (p *portal) useDaily(sa, va, sn, tag string, counts ...int64) {
	p.t.Helper()
	t := p.t
	tok := must[smartlic.Token](t)(p.mgr.CreateToken(p.op, sa, va, smartlic.TokenInput{Description: "devices of " + va, ExpiresInDays: 365}))
	dev, err := agent.New(agent.Options{Server: p.url, Clock: p.clock, Store: agent.MemoryState(),
		UDI: smartlic.UDI{PID: "C9300-24T", SN: sn}, Hostname: strings.ToLower(sn)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := dev.Register(ctx, tok.Secret, false); err != nil {
		t.Fatal(err)
	}
	for i, n := range counts {
		if i > 0 {
			p.clock.Advance(smartlic.Day)
		}
		if err := dev.SetUsage(tag, n); err != nil {
			t.Fatal(err)
		}
		if err := dev.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// textContent is the text of the first element the CSS selector matches,
// rendered or not (an SVG <title>, a closed <details>), as a screen reader
// reads it.
func (b *browser) textContent(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const e = document.querySelector(`+jsString(css)+`); return e ? e.textContent.trim() : ""; })()`))
	if err != nil {
		b.t.Fatalf("read %s: %v", css, err)
	}
	return s
}

// A licensing manager signs in and lands on the account's dashboard: the
// alert counts, the license type closest to running out, and its chart
// with the purchased line and the projection; the Lab's own dashboard says
// its usage exceeds purchases already.
func TestDashboard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme() // Building A: 4 Network Advantage, 2 DNA Advantage
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Lab", smartlic.DepositInput{OrderNumber: "SO-2", License: "network-advantage", Quantity: 10}))
		// Two more a day in the Lab, up to 12: two short of the Lab's 10.
		p.useDaily(sa.Domain, "Lab", "FOC0001", "network-advantage", 2, 4, 6, 8, 10, 12)
		p.user("licensing@acme.example", smartlic.RoleSAUser, sa.Domain, "")

		b := newBrowser(t, p)
		b.signIn("licensing@acme.example", testPassword)
		if loc := b.location(); loc != "/sa/acme.example" {
			t.Fatalf("after sign-in the browser is at %s, want the account's dashboard", loc)
		}
		if got := b.text("main h1"); got != "Acme Corporation" {
			t.Fatalf("dashboard heading = %q", got)
		}
		if got := b.text(`[data-severity="critical"]`); got != "1" {
			t.Errorf("critical alerts = %q, want 1 (the Lab's overage)", got)
		}
		if got := b.text(`[data-severity="warning"]`); got != "0" {
			t.Errorf("warnings = %q, want 0", got)
		}
		// Account-wide Network Advantage: 12 of 14 in use, insufficient
		// because the Lab is short even though Building A has spare.
		if got := b.cells("table.closest tbody tr:nth-child(1)"); len(got) < 6 || !strings.HasPrefix(got[0], "Network Advantage") ||
			!slices.Equal(got[1:6], []string{"14", "12", "2", "85%", "Insufficient"}) {
			t.Errorf("closest to running out = %q, want Network Advantage 14 purchased, 12 in use, 2 available, 85%%", got)
		}
		if got := b.cells("table.closest tbody tr:nth-child(2)"); len(got) < 5 || !strings.HasPrefix(got[0], "DNA Advantage") || got[4] != "0%" {
			t.Errorf("second closest = %q, want DNA Advantage at 0%%", got)
		}
		// The chart shows the type closest to running out.
		if got := b.textContent("#chart-title"); got != "Network Advantage: in use and purchased per day" {
			t.Errorf("chart title = %q", got)
		}
		for _, css := range []string{"svg.usage-chart polyline.series-purchased", "svg.usage-chart polyline.series-in-use", "svg.usage-chart polyline.series-trend"} {
			if !b.has(css) {
				t.Errorf("the chart has no %s", css)
			}
		}
		// +2 a day from 2 to 12 on 14 purchased: the line passes 14 soon.
		if got := b.text("[data-projection]"); !strings.HasPrefix(got, "At the current trend (") || !strings.Contains(got, "usage exceeds purchases around 2026-") {
			t.Errorf("projection = %q, want the day usage exceeds purchases", got)
		}
		if !b.has("svg.usage-chart circle.crossing") {
			t.Error("the chart does not mark the crossing")
		}
		if got := b.cells("table.history tbody tr:last-child"); !slices.Equal(got, []string{"2026-01-10", "14", "12", "12"}) {
			t.Errorf("today's numbers under the chart = %q, want 14 purchased, 12 in use", got)
		}
		if got := b.cells("table.history tbody tr:nth-last-child(6)"); !slices.Equal(got, []string{"2026-01-05", "14", "2", "2"}) {
			t.Errorf("the first day of use = %q, want 2 in use", got)
		}
		b.screenshot("account-dashboard")

		// Another license from the chooser.
		b.selectOption("License", "DNA Advantage")
		b.selectOption("Days", "30")
		b.press("Show")
		if got := b.textContent("#chart-title"); got != "DNA Advantage: in use and purchased per day" {
			t.Errorf("chart title after choosing DNA Advantage = %q", got)
		}
		if got := b.text("[data-projection]"); !strings.HasPrefix(got, "Usage does not exceed purchases at the current trend") {
			t.Errorf("DNA Advantage projection = %q", got)
		}

		// The Lab's dashboard, from the inventory's tabs.
		b.open("/sa/acme.example/va/Lab/general")
		b.do("open the Dashboard tab", chromedp.Click(chromedp.CSS(`.tabs a[href$="/dashboard"]`)), chromedp.WaitReady(chromedp.CSS("[data-projection]")))
		if loc := b.location(); loc != "/sa/acme.example/va/Lab/dashboard" {
			t.Fatalf("the Dashboard tab leads to %s", loc)
		}
		if got := b.text(`[data-severity="critical"]`); got != "1" {
			t.Errorf("Lab critical alerts = %q, want 1", got)
		}
		if got := b.text("[data-projection]"); got != "Usage already exceeds purchases: 12 in use, 10 purchased." {
			t.Errorf("Lab projection = %q", got)
		}
		b.screenshot("va-dashboard")

		// Building A has no alerts and no usage.
		b.open("/sa/acme.example/va/Building%20A/dashboard")
		if got := b.text(`[data-severity="critical"]`); got != "0" {
			t.Errorf("Building A critical alerts = %q, want 0", got)
		}
	})
}

// A VA user has no account-wide numbers: the account's dashboard, alerts
// and reports open on its own VA, and another VA's are refused.
func TestAccountPagesOfAVAUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		b := newBrowser(t, p)
		b.signIn("lab@acme.example", testPassword)
		if loc := b.location(); loc != "/sa/acme.example/va/Lab/dashboard" {
			t.Fatalf("a Lab user starts at %s, want Lab's dashboard", loc)
		}
		if got := b.text("main"); !strings.Contains(got, "No licenses here yet.") {
			t.Errorf("Lab's empty dashboard = %q", got)
		}
		for _, c := range []struct{ open, lands, says, other string }{
			{"/sa/acme.example/alerts", "/sa/acme.example/alerts?va=Lab", "No alerts: everything is in compliance.", "/sa/acme.example/alerts?va=Building%20A"},
			{"/sa/acme.example/reports/usage", "/sa/acme.example/reports/usage?va=Lab", "Nothing to report.", "/sa/acme.example/reports/usage?va=Campus"},
			{"/sa/acme.example/reports/true-up", "/sa/acme.example/reports/true-up?va=Lab", "Nothing to report.", "/sa/acme.example/reports/instances?va=Building%20A"},
			{"/sa/acme.example/va/Lab/dashboard", "/sa/acme.example/va/Lab/dashboard", "No licenses here yet.", "/sa/acme.example/va/Building%20A/dashboard"},
		} {
			b.open(c.open)
			if loc := b.location(); loc != c.lands {
				t.Errorf("%s leads a Lab user to %s, want %s", c.open, loc, c.lands)
			}
			if got := b.text("main"); !strings.Contains(got, c.says) {
				t.Errorf("%s shows %q, want %q", c.lands, got, c.says)
			}
			b.open(c.other)
			if got := b.text("main h1"); got != "Not allowed" {
				t.Errorf("%s shows %q to a Lab user, want the 403 page", c.other, got)
			}
		}
	})
}
