package smartlic_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// usageFileOf builds a usage file of n signed reports of ten measurements
// each, the shape the ingestion benchmarks send.
func usageFileOf(tb testing.TB, n int) []byte {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f := smartlic.UsageFile{Type: smartlic.FileTypeUsage, CreatedAt: end}
	for i := range n {
		r := smartlic.RUMReport{ReportID: fmt.Sprintf("r%06d", i), InstanceID: "0b6f3c1e-7c1d-4b7e-9a51-2f0c7d3e4a10",
			UDI: smartlic.UDI{PID: "C9300-48P", SN: "FCW2233L0AB"}, CreatedAt: end}
		for m := range 10 {
			r.Measurements = append(r.Measurements, smartlic.Measurement{Tag: fmt.Sprintf("regid.2017-03.com.example.C9300-%d", m%3),
				Count: int64(m), Start: end.Add(-time.Hour), End: end})
		}
		env, err := sign.Seal(smartlic.TypeRUMReport, "0b6f3c1e-7c1d-4b7e-9a51-2f0c7d3e4a10", key, r)
		if err != nil {
			tb.Fatal(err)
		}
		f.Reports = append(f.Reports, env)
	}
	data, err := json.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkParseUsageFile parses a 10,000-report usage file and decodes
// every report in it, as an upload does before its signatures are checked.
func BenchmarkParseUsageFile(b *testing.B) {
	data := usageFileOf(b, smartlic.MaxReportsPerFile)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		f, err := smartlic.ParseUsageFile(data)
		if err != nil {
			b.Fatal(err)
		}
		for _, env := range f.Reports {
			if _, err := smartlic.DecodeRUMReport(env); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestParseEnvelope: a sealed envelope as the wire carries it reads back
// the same; every way it can be malformed is refused naming its member.
func TestParseEnvelope(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	env, err := sign.Seal(smartlic.TypeAuthRequest, "kid-1", key, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := json.Marshal(env)
	got, err := smartlic.ParseEnvelope(wire)
	if err != nil || got.Type != env.Type || got.KeyID != env.KeyID || string(got.Payload) != string(env.Payload) || string(got.Sig) != string(env.Sig) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"type":"t","kid":"k","payload":"e30=","sig":"AAAA","extra":1}`, "extra"},
		{`{"type":"t","type":"u","kid":"k","payload":"e30=","sig":"AAAA"}`, "type"},
		{`{"type":"t","kid":"k\u0000","payload":"e30=","sig":"AAAA"}`, "kid"},
		{`{"kid":"k","payload":"e30=","sig":"AAAA"}`, "type"},
		{`{"type":"t","kid":"k","payload":"e30="}`, "sig"},
		{`{"type":"t","kid":"k","payload":"not base64!","sig":"AAAA"}`, "payload"},
		{`{"type":"t","kid":"k","payload":"e30=","sig":"AAA"}`, "sig"},
		{`{"type":"t","kid":"k","payload":"e30=","sig":5}`, "sig"},
		{`{"type":"t",`, "body"},
		{`[]`, "body"},
	} {
		_, err := smartlic.ParseEnvelope([]byte(tc.body))
		if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != tc.field {
			t.Errorf("%s: %v (field %q), want invalid on %q", tc.body, err, smartlic.ErrorField(err), tc.field)
		}
	}
}
