package manager_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestUsingPolicyLargeFile: an offline file of more than a thousand
// reports, whose claims and marks go in batches of several statements,
// is ingested exactly: every report counted once, a copy inside the file
// a duplicate, a forged report refused alone, an older report arriving
// late never overwriting newer usage, the pool counting each instance's
// newest usage; uploaded again, it is all duplicates and changes nothing.
func TestUsingPolicyLargeFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		const devices, each = 25, 50 // 1,250 reports and more: several claim chunks
		t0 := f.clock.Now()
		f.clock.Advance(time.Hour)
		var file smartlic.UsageFile
		file.Type = smartlic.FileTypeUsage
		var ds []*device
		var want int64
		for i := range devices {
			d := newDevice(t, fmt.Sprintf("BIG%03d", i))
			f.trust(d, tok)
			ds = append(ds, d)
			for r := range each {
				end := t0.Add(time.Duration(r+1) * time.Minute)
				file.Reports = append(file.Reports, d.report(t, fmt.Sprintf("r%d", r), end, measure("network-advantage", int64(r%7+1), t0, end)))
			}
			want += int64((each-1)%7 + 1)
		}
		late := ds[devices-1]
		file.Reports = append(file.Reports,
			late.report(t, "late", t0.Add(2*time.Minute), measure("network-advantage", 99, t0, t0.Add(2*time.Minute))), // older than its newest
			file.Reports[len(file.Reports)-1], // a copy
		)
		forged, err := sign.Seal(smartlic.TypeRUMReport, late.id, ds[0].priv, smartlic.RUMReport{ReportID: "forged", InstanceID: late.id, UDI: late.udi,
			CreatedAt: f.clock.Now(), Measurements: []smartlic.Measurement{measure("network-advantage", 500, t0, f.clock.Now())}})
		if err != nil {
			t.Fatal(err)
		}
		file.Reports = append(file.Reports, forged)
		total := len(file.Reports)

		raw, err := json.Marshal(file)
		if err != nil {
			t.Fatal(err)
		}
		upload := func() smartlic.AckFile {
			t.Helper()
			return must[smartlic.AckFile](t)(f.mgr.UploadUsageFile(f.ctx, sa.Domain, "big.json", raw))
		}
		ack := upload()
		if s := ack.Summary; s.Reports != total || s.Accepted != total-1 || s.Rejected != 1 || s.Duplicates != 1 || s.Instances != devices || len(ack.Acks) != devices {
			t.Fatalf("summary %+v, %d ACKs; want %d reports, 1 rejected, 1 duplicate, %d instances", s, len(ack.Acks), total, devices)
		}
		if len(ack.Rejections) != 1 || ack.Rejections[0].Index != total-1 || ack.Rejections[0].Code != smartlic.ESignature {
			t.Fatalf("rejections %+v, want the forged report's (index %d, %s)", ack.Rejections, total-1, smartlic.ESignature)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != want {
			t.Fatalf("in use %d, want %d (each instance's newest report)", n, want)
		}
		inst := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.Domain, smartlic.DefaultVAName, late.id))
		if len(inst.Usage) != 1 || inst.Usage[0].Count != int64((each-1)%7+1) {
			t.Fatalf("usage of the instance with a late report: %+v", inst.Usage)
		}

		again := upload()
		if s := again.Summary; s.Accepted != total-1 || s.Duplicates != total-1 || s.Rejected != 1 {
			t.Fatalf("sent again: summary %+v, want %d duplicates", s, total-1)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != want {
			t.Fatalf("in use %d after the file again, want %d", n, want)
		}
	})
}
