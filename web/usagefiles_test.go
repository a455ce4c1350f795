package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// policyDevice is a product under Smart Licensing Using Policy built on
// the agent library, as a product embeds it; it never reaches the manager.
func (p *portal) policyDevice(sn string) *agent.Agent {
	p.t.Helper()
	a, err := agent.New(agent.Options{Server: p.url, Clock: p.clock, Store: agent.MemoryState(),
		UDI: smartlic.UDI{PID: "C9300-24T", SN: sn}, Hostname: "sw-" + sn, Mode: agent.ModePolicy})
	if err != nil {
		p.t.Fatal(err)
	}
	return a
}

// siteUsageFile is one usage file with what every device saved, as a
// site carries them to the manager together.
func siteUsageFile(t *testing.T, now time.Time, devs ...*agent.Agent) []byte {
	t.Helper()
	site := smartlic.UsageFile{Type: smartlic.FileTypeUsage, CreatedAt: now}
	for _, d := range devs {
		f, err := d.SaveUsage()
		if err != nil {
			t.Fatal(err)
		}
		site.TrustRequests = append(site.TrustRequests, f.TrustRequests...)
		site.Reports = append(site.Reports, f.Reports...)
	}
	raw, err := json.Marshal(site)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// download clicks what sel finds (a link or a form's button whose answer
// is a file) and returns the file the browser saved. Chromium reports
// downloads browser-wide, so only the downloads of this portal's address
// are waited for.
func (b *browser) download(sel string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	var mu sync.Mutex
	mine := map[string]bool{}
	done := make(chan string, 1)
	err := chromedp.ListenBrowser(b.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *cdpbrowser.EventDownloadWillBegin:
			if strings.HasPrefix(e.URL, b.base+"/") {
				mine[e.GUID] = true
			}
		case *cdpbrowser.EventDownloadProgress:
			if mine[e.GUID] && e.State == cdpbrowser.DownloadProgressStateCompleted {
				select {
				case done <- e.GUID:
				default:
				}
			}
		}
	})
	if err != nil {
		b.t.Fatal(err)
	}
	events := true
	_, err = chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events,
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID})
	if err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
	b.do("click "+sel+" for a download", chromedp.Click(chromedp.CSS(sel)))
	select {
	case guid := <-done:
		data, err := os.ReadFile(filepath.Join(dir, guid))
		if err != nil {
			b.t.Fatal(err)
		}
		return data
	case <-b.ctx.Done():
		b.t.Fatalf("no download after clicking %s on %s", sel, b.location())
		return nil
	}
}

// uploadFile chooses file for the file input with this id.
func (b *browser) uploadFile(id, file string) {
	b.t.Helper()
	b.do("choose "+file, chromedp.SetUploadFiles(chromedp.CSS("#"+id), []string{file}))
}

// Usage data files, as a person at a site without a connection uses
// them: trust-code file for two products → the products import it and
// save their usage → the file is uploaded → the ACK file downloaded and
// imported by the products, which then show the ACK; the pools count the
// usage and the instance list shows each product's reporting state.
func TestUsageDataFilesPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		devs := []*agent.Agent{p.policyDevice("UFA0001"), p.policyDevice("UFA0002")}

		b := newBrowser(t, p)
		b.signIn("user@acme.example", testPassword)
		b.press("Usage files")
		if loc := b.location(); loc != "/sa/acme.example/usage-files" {
			t.Fatalf("the Usage files link leads to %s", loc)
		}
		if got := b.text("main h1"); got != "Usage data files" {
			t.Fatalf("heading %q", got)
		}

		// A mistyped UDI is refused beside the list, and nothing is issued.
		b.selectOption("Virtual Account", "— Building A")
		b.fill("UDIs", "C9300-24T:UFA0001\nnot a udi")
		b.press("Generate trust-code file")
		if got := b.fieldError("UDIs"); !strings.Contains(got, "UDI 2") {
			t.Fatalf("error beside a mistyped UDI = %q", got)
		}
		b.selectOption("Virtual Account", "— Building A")
		b.fill("UDIs", "C9300-24T:UFA0001\nC9300-24T:UFA0002")
		raw := b.download(`#trust-file ~ form button[type="submit"]`)
		var tf smartlic.TrustFile
		if err := json.Unmarshal(raw, &tf); err != nil || tf.Type != smartlic.FileTypeTrust || len(tf.TrustCodes) != 2 || tf.VirtualAccount != "Building A" {
			t.Fatalf("trust-code file: %+v, %v\n%s", tf, err, raw)
		}
		for _, d := range devs {
			got, err := d.Import(raw)
			if err != nil || got.Kind != smartlic.FileTypeTrust {
				t.Fatalf("%s imports the trust-code file: %+v, %v", d.UDI(), got, err)
			}
			if st := d.Status().Policy; !st.Trusted || st.TrustBound {
				t.Fatalf("%s after the trust-code file: %+v", d.UDI(), st)
			}
		}

		// The products use licenses and save their usage.
		if err := devs[0].SetUsage("network-advantage", 2); err != nil {
			t.Fatal(err)
		}
		if err := devs[1].SetUsage("network-advantage", 1); err != nil {
			t.Fatal(err)
		}
		if err := devs[1].SetUsage("dna-advantage", 1); err != nil {
			t.Fatal(err)
		}
		p.clock.Advance(time.Hour)
		file := filepath.Join(t.TempDir(), "site-usage.json")
		if err := os.WriteFile(file, siteUsageFile(t, p.clock.Now(), devs...), 0o600); err != nil {
			t.Fatal(err)
		}
		b.signIn("user@acme.example", testPassword) // the session ended with the hour that passed
		b.open("/sa/acme.example/usage-files")
		b.uploadFile("f-file", file)
		b.press("Upload usage file")
		if got := b.text(".flash"); !strings.Contains(got, "2 of 2 reports accepted") {
			t.Fatalf("flash after the upload = %q (page %s)", got, b.location())
		}
		for k, want := range map[string]string{"reports": "2", "accepted": "2", "rejected": "0", "instances": "2", "duplicates": "0"} {
			if got := b.text(`[data-summary="` + k + `"]`); got != want {
				t.Errorf("summary %s = %q, want %s", k, got, want)
			}
		}
		b.screenshot("usage-upload")
		ack := b.download("#ack-download")
		for _, d := range devs {
			got, err := d.Import(ack)
			if err != nil || got.Kind != smartlic.FileTypeAck || got.Accepted != 1 || len(got.Rejected) != 0 {
				t.Fatalf("%s imports the ACK file: %+v, %v", d.UDI(), got, err)
			}
			st := d.Status().Policy
			if !st.TrustBound || st.PendingReports != 0 || st.LastAckAt == nil || !st.LastAckAt.Equal(p.clock.Now()) || st.LastAckID == "" || st.Policy == nil || st.Policy.Name == "" {
				t.Fatalf("%s after the ACK file: %+v", d.UDI(), st)
			}
		}
		pools := must[[]smartlic.Pool](t)(p.mgr.ListPools(p.op, sa.Domain, "Building A", false))
		for _, pl := range pools {
			if want := map[string]int64{"network-advantage": 3, "dna-advantage": 1}[pl.LicenseTag]; pl.InUse != want {
				t.Errorf("Building A %s in use %d, want %d", pl.LicenseTag, pl.InUse, want)
			}
		}

		// The list keeps the upload, with its ACK file to download again.
		b.open("/sa/acme.example/usage-files")
		if row := b.cells("table.usage-uploads tbody tr"); len(row) != 8 || row[1] != "site-usage.json" || row[2] != "user@acme.example" || row[3] != "2" || row[4] != "2" || row[7] != "Download ACK file" {
			t.Fatalf("uploads row = %q", row)
		}
		again := b.download(`table.usage-uploads tbody tr a[download]`)
		if !bytes.Equal(again, ack) {
			t.Errorf("the ACK file downloaded again differs from the first:\n%s\n%s", again, ack)
		}

		// Each instance shows its mode and reporting state in the list.
		b.open("/sa/acme.example/va/Building%20A/instances")
		tbody := b.text("table.instances tbody")
		if strings.Count(tbody, "Policy") != 2 || strings.Count(tbody, "On time") != 2 || !strings.Contains(tbody, "next due") {
			t.Fatalf("instances of Building A = %q", tbody)
		}
		b.screenshot("instances-reporting")

		// Where a person looks for it: beside a VA's tokens, the trust-code
		// form for that VA.
		b.open("/sa/acme.example/va/Lab/general")
		b.press("generate a trust-code file")
		if loc, va := b.location(), b.fieldValue("Virtual Account"); !strings.HasPrefix(loc, "/sa/acme.example/usage-files?va=Lab") || va != "Lab" {
			t.Fatalf("the General tab's trust-code link leads to %s with %q chosen", loc, va)
		}
	})
}

// upload posts a usage file through the portal's form as a browser sends
// it (multipart/form-data, the session's CSRF token).
func (c *client) upload(sa, csrf, name string, data []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf != "" {
		mw.WriteField("csrf_token", csrf)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", c.base+"/sa/"+sa+"/usage-files", &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signInTo signs in and returns the CSRF token of the Usage data files
// page of sa, which every signed-in user with a role in it can open.
func (c *client) signInTo(email, sa string) string {
	c.t.Helper()
	if resp, _ := c.signInAttempt(email, testPassword); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: %s", email, resp.Status)
	}
	_, page := c.do("GET", "/sa/"+sa+"/usage-files", nil)
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF field on the Usage data files page:\n%s", page)
	}
	return m[1]
}

// Refusals of the upload and the trust-code form: another account's
// Smart Account, a role that may not upload, a forged form, an oversized,
// malformed or truncated file, a file of another Smart Account. Each gets
// its status and a precise message, and none changes anything.
func TestUsageDataFilesRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		globex := must[smartlic.SmartAccount](t)(p.mgr.CreateSmartAccount(p.op, smartlic.SmartAccount{Name: "Globex", Domain: "globex.example", Status: smartlic.SAActive}))
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		p.user("approver@acme.example", smartlic.RoleSAApprover, sa.Domain, "")
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")

		// A good file of acme's, and one of a product trusted in globex.
		mine := p.policyDevice("REF0001")
		theirs := p.policyDevice("REF0002")
		for _, c := range []struct {
			d      *agent.Agent
			sa, va string
		}{{mine, sa.Domain, "Building A"}, {theirs, globex.Domain, smartlic.DefaultVAName}} {
			tf := must[smartlic.TrustFile](t)(p.mgr.GenerateTrustFile(p.op, c.sa, c.va, []smartlic.UDI{c.d.UDI()}))
			raw, _ := json.Marshal(tf)
			if _, err := c.d.Import(raw); err != nil {
				t.Fatal(err)
			}
			if err := c.d.SetUsage("network-advantage", 2); err != nil {
				t.Fatal(err)
			}
		}
		p.clock.Advance(time.Hour)
		good := siteUsageFile(t, p.clock.Now(), mine)
		foreign := siteUsageFile(t, p.clock.Now(), theirs)

		user := newClient(t, p)
		csrf := user.signInTo("user@acme.example", sa.Domain)
		approver := newClient(t, p)
		approverCSRF := approver.signInTo("approver@acme.example", sa.Domain)
		lab := newClient(t, p)
		labCSRF := lab.signInTo("lab@acme.example", sa.Domain)

		oversized := append([]byte(`{"type":"smartlic.usage-file/v1","reports":[],"pad":"`), bytes.Repeat([]byte("x"), smartlic.MaxUsageFileBytes)...)
		oversized = append(oversized, `"}`...)
		for _, c := range []struct {
			name   string
			c      *client
			sa     string
			csrf   string
			data   []byte
			status int
			want   string
		}{
			{"another account's Smart Account", user, globex.Domain, csrf, good, http.StatusForbidden, "license.manage on Smart Account globex.example"},
			{"an SA approver (no license management)", approver, sa.Domain, approverCSRF, good, http.StatusForbidden, "Not allowed"},
			{"a VA user (no account-wide license management)", lab, sa.Domain, labCSRF, good, http.StatusForbidden, "Not allowed"},
			{"a form without its CSRF token", user, sa.Domain, "", good, http.StatusForbidden, "CSRF token is missing or wrong"},
			{"an oversized file", user, sa.Domain, csrf, oversized, http.StatusRequestEntityTooLarge, "larger than 33554432 bytes"},
			{"a malformed file", user, sa.Domain, csrf, []byte("this is not JSON"), http.StatusBadRequest, "usage file"},
			{"a truncated file", user, sa.Domain, csrf, good[:len(good)/2], http.StatusBadRequest, "usage file"},
			{"a file of another Smart Account", user, sa.Domain, csrf, foreign, http.StatusForbidden, "nothing in this usage file belongs to Smart Account acme.example"},
		} {
			resp, page := c.c.upload(c.sa, c.csrf, "site.json", c.data)
			if resp.StatusCode != c.status || !strings.Contains(page, c.want) {
				t.Errorf("%s: %s, want %d with %q in:\n%s", c.name, resp.Status, c.status, c.want, clipPage(page))
			}
		}
		// Refused beside the file input, where the person looks.
		resp, page := user.upload(sa.Domain, csrf, "site.json", []byte("this is not JSON"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="f-file-error"`) {
			t.Errorf("malformed file: %s, no error beside the file input:\n%s", resp.Status, clipPage(page))
		}
		// Even a body too large to be read as a form at all.
		huge := bytes.Repeat([]byte(" "), smartlic.MaxUsageFileBytes+1<<20)
		resp, page = user.upload(sa.Domain, csrf, "site.json", huge)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(page, `id="f-file-error"`) || !strings.Contains(page, "larger than") {
			t.Errorf("a file over the form's limit: %s, no error beside the file input:\n%s", resp.Status, clipPage(page))
		}

		// Nothing changed.
		for _, s := range []string{sa.Domain, globex.Domain} {
			if ups, _, err := p.mgr.ListUsageUploads(p.op, s, smartlic.Page{}); err != nil || len(ups) != 0 {
				t.Errorf("uploads of %s after the refusals: %d, %v", s, len(ups), err)
			}
		}
		for _, pl := range must[[]smartlic.Pool](t)(p.mgr.ListPools(p.op, sa.Domain, "Building A", false)) {
			if pl.InUse != 0 {
				t.Errorf("Building A %s in use %d after the refusals", pl.LicenseTag, pl.InUse)
			}
		}
		if st := mine.Status().Policy; st.TrustBound {
			t.Errorf("the trust of %s was bound by a refused upload", mine.UDI())
		}

		// The same good file, uploaded right, is accepted.
		resp, _ = user.upload(sa.Domain, csrf, "site.json", good)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/sa/acme.example/usage-files/") {
			t.Fatalf("good upload: %s → %s", resp.Status, resp.Header.Get("Location"))
		}
		// Its result and ACK file are not another account's to read.
		loc := resp.Header.Get("Location")
		id := loc[strings.LastIndex(loc, "/")+1:]
		for _, path := range []string{"/sa/globex.example/usage-files/" + id, "/sa/globex.example/usage-files/" + id + "/ack"} {
			if resp, _ := user.do("GET", path, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("GET %s as an acme user: %s, want 403", path, resp.Status)
			}
		}
		if _, err := p.mgr.GetUsageUploadAck(p.op, globex.Domain, id); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("acme's upload read through globex: %v", err)
		}

		// A file with a tampered report and a good one: the good one is
		// accepted, the tampered one listed with its position and reason.
		p.clock.Advance(time.Minute)
		if err := mine.SetUsage("network-advantage", 3); err != nil {
			t.Fatal(err)
		}
		var mixed smartlic.UsageFile
		if err := json.Unmarshal(siteUsageFile(t, p.clock.Now(), mine), &mixed); err != nil || len(mixed.Reports) != 2 {
			t.Fatalf("the device's second file: %d reports, %v", len(mixed.Reports), err)
		}
		mixed.Reports[0].Payload = bytes.Replace(mixed.Reports[0].Payload, []byte(`"count":2`), []byte(`"count":9`), 1)
		raw, _ := json.Marshal(mixed)
		resp, _ = user.upload(sa.Domain, csrf, "mixed.json", raw)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("mixed upload: %s", resp.Status)
		}
		_, page = user.do("GET", resp.Header.Get("Location"), nil)
		for _, want := range []string{`data-summary="accepted">1<`, `data-summary="rejected">1<`, "signature_invalid", "instance " + mine.Status().Policy.InstanceID} {
			if !strings.Contains(page, want) {
				t.Errorf("the mixed upload's page lacks %q:\n%s", want, clipPage(page))
			}
		}
		if pl := must[[]smartlic.Pool](t)(p.mgr.ListPools(p.op, sa.Domain, "Building A", false)); !slices.ContainsFunc(pl, func(x smartlic.Pool) bool {
			return x.LicenseTag == "network-advantage" && x.InUse == 3
		}) {
			t.Errorf("Building A after the mixed upload: %+v, want network-advantage 3 in use (the good report)", pl)
		}

		// The trust-code form: a VA user generates for its own VA only.
		form := url.Values{"csrf_token": {labCSRF}, "va": {"Building A"}, "udis": {"C9300-24T:REF0009"}}
		if resp, page := lab.do("POST", "/sa/acme.example/usage-files/trust-file", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a Lab user's trust-code file for Building A: %s\n%s", resp.Status, clipPage(page))
		}
		form.Set("va", "Lab")
		resp, body := lab.do("POST", "/sa/acme.example/usage-files/trust-file", form)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(body, smartlic.FileTypeTrust) {
			t.Errorf("a Lab user's trust-code file for Lab: %s %s\n%s", resp.Status, resp.Header.Get("Content-Disposition"), clipPage(body))
		}
		form.Set("udis", "C9300-24T:REF0009, C9300-24T:REF0009")
		if resp, page := lab.do("POST", "/sa/acme.example/usage-files/trust-file", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "UDI 2") || !strings.Contains(page, "listed twice") {
			t.Errorf("a UDI listed twice: %s\n%s", resp.Status, clipPage(page))
		}
	})
}

func clipPage(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}
