package web_test

// The browser harness: a real Chromium (Debian's chromium package), driven
// by chromedp, against a real server on port 0. Page tests read like a
// person using the page:
//
//	b := newBrowser(t, p)
//	b.signIn("jane@acme.example", testPassword)
//	b.open("/sa/acme.example/va/Lab/general")
//	b.fill("Description", "Lab switches")
//	b.press("Create token")
//	secret := b.value("token-secret")
//	b.screenshot("token-created")
//
// Every wait is on the page (a load event, an element appearing), never on
// the clock. One Chromium serves the whole test binary; each browser gets
// its own browser context (cookies, storage), so tests run in parallel
// without sharing a session.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// ScreenshotsEnv names a folder where browser tests save PNG screenshots
// of the pages they visit; without it they go to a temporary folder.
const ScreenshotsEnv = "SMARTLIC_SCREENSHOTS"

// browserTimeout bounds one test's whole browsing: a page that never shows
// what a test waits for fails the test instead of hanging it.
const browserTimeout = 90 * time.Second

var chromium struct {
	once sync.Once
	ctx  context.Context
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.stop != nil {
		chromium.stop()
	}
	os.Exit(code)
}

// sharedChromium starts the browser on first use. Without Chromium the
// test fails under CI and is skipped, saying how to install it, elsewhere.
func sharedChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("Chromium is not installed at %s (apt-get install -y chromium chromium-driver)", chromiumPath)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI must run the browser tests")
		}
		t.Skip(msg + "; skipping the browser test")
	}
	chromium.once.Do(func() {
		dir, err := os.MkdirTemp("", "smartlic-chromium-")
		if err != nil {
			chromium.err = err
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(chromiumPath),
			chromedp.Flag("headless", true),
			chromedp.NoSandbox,
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("no-default-browser-check", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 900),
		)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		// Start the browser without a timeout: a timeout here would stop
		// the browser for every later test.
		chromium.err = chromedp.Do(ctx)
		chromium.ctx = ctx
		chromium.stop = func() {
			cancelCtx()
			cancelAlloc()
			os.RemoveAll(dir)
		}
	})
	if chromium.err != nil {
		t.Fatalf("start Chromium: %v", chromium.err)
	}
	return chromium.ctx
}

// browser is one person's browser window on the portal under test.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot int
}

// newBrowser opens a fresh browser context (no cookies) on the portal p.
func newBrowser(t *testing.T, p *portal) *browser {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(sharedChromium(t), chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		t.Fatalf("open a browser tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, browserTimeout)
	t.Cleanup(func() {
		cancel()
		cancelTab()
	})
	return &browser{t: t, ctx: ctx, base: p.url}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (page %s)", what, err, b.location())
	}
}

// open loads a page of the portal by its path and waits for it.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// location is the path (and query) of the page the browser shows.
func (b *browser) location() string {
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(loc, b.base)
}

// signIn signs in through the sign-in page and waits for the page it leads
// to.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.open("/login")
	b.fill("E-mail", email)
	b.fill("Password", password)
	b.press("Sign in")
	if b.location() == "/login" || strings.HasPrefix(b.location(), "/login?") {
		b.t.Fatalf("sign in as %s failed: %s", email, b.fieldError("Password"))
	}
}

// inputID finds the input a <label> with this text labels, as a screen
// reader would, and returns its id.
func (b *browser) inputID(label string) chromedp.ID {
	b.t.Helper()
	id, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		const l = [...document.querySelectorAll("label")].find(l => l.textContent.trim() === `+jsString(label)+`);
		if (!l) return "";
		const input = l.htmlFor ? document.getElementById(l.htmlFor) : l.querySelector("input, select, textarea");
		return input && input.id ? input.id : "";
	})()`))
	if err != nil || id == "" {
		b.t.Fatalf("no input labelled %q on %s (%v)", label, b.location(), err)
	}
	return chromedp.ID(id)
}

// fill types value into the input labelled label, replacing what was there.
func (b *browser) fill(label, value string) {
	b.t.Helper()
	id := b.inputID(label)
	b.eval(`document.getElementById(` + jsString(string(id)) + `).value = ""`)
	if value != "" {
		b.do("fill "+label, chromedp.SendKeys(id, value))
	}
}

// check ticks the checkbox labelled label.
func (b *browser) check(label string) {
	b.t.Helper()
	id := b.inputID(label)
	b.do("check "+label, chromedp.Click(id))
}

// selectOption chooses the option with this text in the select labelled
// label.
func (b *browser) selectOption(label, option string) {
	b.t.Helper()
	id := b.inputID(label)
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => {
		const s = document.getElementById(`+jsString(string(id))+`);
		const o = [...s.options].find(o => o.textContent.trim() === `+jsString(option)+`);
		if (!o) throw new Error("no option");
		s.value = o.value;
		return true;
	})()`))
	if err != nil {
		b.t.Fatalf("select %q in %q: %v", option, label, err)
	}
}

// press clicks the button (or link) with this text and waits for the page
// it loads.
func (b *browser) press(text string) {
	b.t.Helper()
	sel := chromedp.Search(`//*[self::button or self::a][normalize-space(.)=` + xpathString(text) + `]`)
	_, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel)))
	if err != nil {
		b.t.Fatalf("press %q on %s: %v", text, b.location(), err)
	}
}

// text is the visible text of the first element the CSS selector matches.
func (b *browser) text(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("read %s on %s: %v", css, b.location(), err)
	}
	return strings.TrimSpace(s)
}

// has reports whether the page has an element the CSS selector matches,
// without waiting for one.
func (b *browser) has(css string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(css)+`) !== null`))
	if err != nil {
		b.t.Fatalf("query %s: %v", css, err)
	}
	return ok
}

// value is the value of the input with this id.
func (b *browser) value(id string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		b.t.Fatalf("read #%s on %s: %v", id, b.location(), err)
	}
	return v
}

// fieldValue is what the input labelled label holds.
func (b *browser) fieldValue(label string) string {
	b.t.Helper()
	return b.value(string(b.inputID(label)))
}

// fieldError is the error shown beside the input labelled label: the
// element with class "error" among those its aria-describedby names, so
// a screen reader announces it with the field. "" when there is none.
func (b *browser) fieldError(label string) string {
	b.t.Helper()
	id := b.inputID(label)
	msg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		const input = document.getElementById(`+jsString(string(id))+`);
		for (const ref of (input.getAttribute("aria-describedby") || "").split(/\s+/)) {
			const e = ref && document.getElementById(ref);
			if (e && e.classList.contains("error")) return e.textContent.trim();
		}
		return "";
	})()`))
	if err != nil {
		b.t.Fatalf("read the error of %q: %v", label, err)
	}
	return msg
}

// links is the text of every link inside the element the CSS selector
// matches.
func (b *browser) links(css string) []string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(`+jsString(css+" a")+`)].map(a => a.textContent.trim())`))
	if err != nil {
		b.t.Fatalf("read links of %s: %v", css, err)
	}
	return out
}

// cells is the text of each cell of the table row the CSS selector
// matches.
func (b *browser) cells(css string) []string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
		const row = document.querySelector(`+jsString(css)+`);
		return row ? [...row.querySelectorAll("th, td")].map(c => c.textContent.trim().replace(/\s+/g, " ")) : [];
	})()`))
	if err != nil {
		b.t.Fatalf("read the row %s: %v", css, err)
	}
	return out
}

// eval runs JavaScript in the page, for what a person does outside the
// page's own controls (a forged form, say).
func (b *browser) eval(js string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js)); err != nil {
		b.t.Fatalf("eval: %v", err)
	}
}

// screenshot saves the whole page as PNG, named after the test, in
// $SMARTLIC_SCREENSHOTS (or a temporary folder).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		dir = b.t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	b.shot++
	file := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", unsafeChars.ReplaceAllString(b.t.Name(), "_"), b.shot, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// xpathString quotes s for XPath 1.0, which has no escapes.
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return `'` + s + `'`
}
