package smartlic_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// The parsers of Using Policy's files and reports take bytes from anyone:
// they must never panic, and what they accept must hold to their limits.

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		`{"type":"smartlic.usage-file/v1","reports":[{"type":"smartlic.rum-report/v1","kid":"k","payload":"e30=","sig":"AAAA"}]}`,
		`{"type":"smartlic.ack-file/v1","acks":[],"summary":{"reports":1},"rejections":[]}`,
		`{"type":"smartlic.trust-file/v1","trust_codes":[{"type":"smartlic.trust-code/v1","kid":"k","payload":"e30=","sig":"AAAA"}],"keys":{"keys":[]}}`,
		`{"type":"smartlic.usage-file/v1","reports":[`,
		`{"type":1}`, `[]`, `null`, ``, `{"type":"smartlic.usage-file/v1","reports":[],"x":1}`,
	} {
		f.Add([]byte(s))
	}
}

func FuzzParseUsageFile(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		uf, err := smartlic.ParseUsageFile(data)
		if err != nil {
			if smartlic.ErrorCode(err) == smartlic.EInternal {
				t.Fatalf("a bad file is an internal error: %v", err)
			}
			return
		}
		if uf.Type != smartlic.FileTypeUsage || len(uf.Reports) > smartlic.MaxReportsPerFile || len(uf.Reports)+len(uf.TrustRequests) == 0 {
			t.Fatalf("accepted a file that breaks the rules: %+v", uf)
		}
	})
}

func FuzzParseAckFile(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		af, err := smartlic.ParseAckFile(data)
		if err == nil && (af.Type != smartlic.FileTypeAck || len(af.Acks) > smartlic.MaxReportsPerFile) {
			t.Fatalf("accepted a file that breaks the rules: %+v", af)
		}
	})
}

func FuzzParseTrustFile(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := smartlic.ParseTrustFile(data)
		if err == nil && (tf.Type != smartlic.FileTypeTrust || len(tf.TrustCodes) == 0 || len(tf.TrustCodes) > smartlic.MaxTrustCodesPerFile) {
			t.Fatalf("accepted a file that breaks the rules: %+v", tf)
		}
		if _, err := smartlic.FileType(data); err != nil && smartlic.ErrorCode(err) == smartlic.EInternal {
			t.Fatal(err)
		}
	})
}

// FuzzRUMReport decodes a report payload as the manager does after the
// signature checked, and validates it: what passes has sane intervals.
func FuzzRUMReport(f *testing.F) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	good, _ := json.Marshal(smartlic.RUMReport{ReportID: "r1", InstanceID: "i", UDI: smartlic.UDI{PID: "C9300-24T", SN: "FOC1"}, CreatedAt: now,
		Measurements: []smartlic.Measurement{{Tag: "network-advantage", Count: 2, Start: now.Add(-time.Hour), End: now}}})
	f.Add(good)
	f.Add([]byte(`{"report_id":"r","measurements":[{"tag":"a","count":-1}]}`))
	f.Add([]byte(`{"report_id":"r","instance_id":"i","udi":{"pid":"P","sn":"S"},"created_at":"2026-03-02T09:00:00Z","measurements":[{"tag":"a","count":1,"start":"2026-03-02T10:00:00Z","end":"2026-03-02T09:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var r smartlic.RUMReport
		env := smartlic.Envelope{Type: smartlic.TypeRUMReport, Payload: payload}
		if err := smartlic.DecodePayload(env, &r); err != nil {
			return
		}
		if err := r.Validate(now); err != nil {
			return
		}
		if len(r.Measurements) > smartlic.MaxMeasurementsPerReport {
			t.Fatalf("%d measurements accepted", len(r.Measurements))
		}
		for _, m := range r.Measurements {
			if m.End.Before(m.Start) || m.End.After(now.Add(smartlic.DeviceClockSkew)) || m.Count < 0 || m.Count > smartlic.MaxMeasurementCount {
				t.Fatalf("a bad measurement passed: %+v", m)
			}
		}
		latest := map[string]smartlic.Measurement{}
		for _, m := range r.Measurements {
			m.KeepIfNewer(latest)
		}
		for tag, m := range latest {
			if m.Tag != tag {
				t.Fatalf("KeepIfNewer mixed up tags: %q → %+v", tag, m)
			}
		}
	})
}
