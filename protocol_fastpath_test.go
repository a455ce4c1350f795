package smartlic

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The fast decoder of reports is only worth having if a device's own
// reports take it, and only safe if it never reads a report otherwise
// than the general decoder does.

func canonicalReports() []RUMReport {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	leap := time.Date(2028, 2, 29, 23, 59, 59, 999_999_999, time.UTC)
	return []RUMReport{
		{ReportID: "r1", InstanceID: "i", UDI: UDI{PID: "C9300-24T", SN: "FOC1"}, CreatedAt: now, Measurements: []Measurement{}},
		{ReportID: "Abc_-9", InstanceID: "0f3a", UDI: UDI{PID: "ISR4451-X/K9+", SN: "a.b-c_d"}, CreatedAt: now.Add(123 * time.Millisecond),
			Measurements: []Measurement{
				{Tag: "network-advantage", Count: 2, Start: now.Add(-time.Hour), End: now},
				{Tag: "dna.essentials_1", Count: 0, Start: leap, End: leap},
				{Tag: "x", Count: 999_999_999_999_999_999, Start: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), End: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
			}},
	}
}

func TestRUMReportCanonicalFormTakesTheFastPath(t *testing.T) {
	for _, want := range canonicalReports() {
		takesFastPath(t, want, decodeRUMCanonical)
	}
}

// takesFastPath fails unless decode, a fast path, reads want back equal
// from its encoding by json.Marshal, as a device writes it; it returns
// that encoding.
func takesFastPath[T any](t *testing.T, want T, decode func([]byte) (T, bool)) []byte {
	t.Helper()
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := decode(data)
	if !ok {
		t.Fatalf("a device's own %T did not take the fast path: %s", want, data)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path decoded\n%+v\nwant\n%+v", got, want)
	}
	return data
}

func TestRUMReportFastPathLeavesEverythingElse(t *testing.T) {
	payload, _ := json.Marshal(canonicalReports()[1])
	good := string(payload)
	for name, edit := range map[string]func(string) string{
		"white space": func(s string) string { return strings.Replace(s, `,"udi"`, `, "udi"`, 1) },
		"members reordered": func(s string) string {
			return strings.Replace(s, `"report_id":"Abc_-9","instance_id":"0f3a"`, `"instance_id":"0f3a","report_id":"Abc_-9"`, 1)
		},
		"unknown member":   func(s string) string { return strings.Replace(s, `{"report_id"`, `{"x":1,"report_id"`, 1) },
		"escape":           func(s string) string { return strings.Replace(s, `"0f3a"`, `"0f\u0033a"`, 1) },
		"non-ASCII":        func(s string) string { return strings.Replace(s, `a.b-c_d`, `a.b-ç_d`, 1) },
		"negative count":   func(s string) string { return strings.Replace(s, `"count":2`, `"count":-2`, 1) },
		"leading zero":     func(s string) string { return strings.Replace(s, `"count":2`, `"count":02`, 1) },
		"fractional count": func(s string) string { return strings.Replace(s, `"count":2`, `"count":2.0`, 1) },
		"19 digits":        func(s string) string { return strings.Replace(s, `999999999999999999`, `9999999999999999999`, 1) },
		"offset time":      func(s string) string { return strings.Replace(s, `09:00:00.123Z`, `10:00:00.123+01:00`, 1) },
		"February 30":      func(s string) string { return strings.Replace(s, `2028-02-29`, `2028-02-30`, 1) },
		"hour 24":          func(s string) string { return strings.Replace(s, `T23:59:59.999999999Z`, `T24:00:00Z`, 1) },
		"ten digits":       func(s string) string { return strings.Replace(s, `.999999999Z`, `.9999999990Z`, 1) },
		"null list":        func(s string) string { return s[:strings.Index(s, `[`)] + `null}` },
		"trailing byte":    func(s string) string { return s + " " },
		"truncated":        func(s string) string { return s[:len(s)-1] },
	} {
		bad := edit(good)
		if bad == good {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if _, ok := decodeRUMCanonical([]byte(bad)); ok {
			t.Errorf("%s: the fast path took %s", name, bad)
		}
		// And the fallback still reads it as the general decoder does.
		checkSameAsGeneral(t, []byte(bad))
	}
}

// checkSameAsGeneral fails if DecodeRUMReport and DecodePayload disagree
// on payload, in result or in whether it is an error at all.
func checkSameAsGeneral(t *testing.T, payload []byte) {
	t.Helper()
	env := Envelope{Type: TypeRUMReport, Payload: payload}
	fast, fastErr := DecodeRUMReport(env)
	var general RUMReport
	generalErr := DecodePayload(env, &general)
	if (fastErr == nil) != (generalErr == nil) {
		t.Fatalf("%q: DecodeRUMReport says %v, DecodePayload says %v", payload, fastErr, generalErr)
	}
	if fastErr == nil && !reflect.DeepEqual(fast, general) {
		t.Fatalf("%q: DecodeRUMReport decoded\n%#v\nDecodePayload\n%#v", payload, fast, general)
	}
}

// FuzzRUMReportFastPath: whatever the bytes, the fast path decodes a
// report as the general decoder does, or leaves it to it.
func FuzzRUMReportFastPath(f *testing.F) {
	for _, r := range canonicalReports() {
		payload, _ := json.Marshal(r)
		f.Add(payload)
	}
	f.Add([]byte(`{"report_id":"r","instance_id":"i","udi":{"pid":"P","sn":"S"},"created_at":"2026-02-29T09:00:00Z","measurements":[]}`))
	f.Add([]byte(`{"report_id":"r","instance_id":"i","udi":{"pid":"P","sn":"S"},"created_at":"0000-01-01T00:00:00.1Z","measurements":[{"tag":"a","count":0,"start":"2026-03-02T10:00:00Z","end":"2026-03-02T09:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkSameAsGeneral(t, payload)
	})
}

func canonicalUsageFiles(t testing.TB) []UsageFile {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var reports []Envelope
	for i, r := range canonicalReports() {
		payload, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		sig[0], sig[63] = byte(i), 0xff
		reports = append(reports, Envelope{Type: TypeRUMReport, KeyID: r.InstanceID, Payload: payload, Sig: sig})
	}
	trust := Envelope{Type: TypeTrustRequest, KeyID: "kX-_9", Payload: []byte(`{"a":1}`), Sig: []byte{1, 2}}
	return []UsageFile{
		{Type: FileTypeUsage, CreatedAt: now, Reports: reports},
		{Type: FileTypeUsage, CreatedAt: now.Add(time.Microsecond), TrustRequests: []Envelope{trust}, Reports: reports[:1]},
		{Type: FileTypeUsage, CreatedAt: now, TrustRequests: []Envelope{trust, trust}, Reports: []Envelope{}},
	}
}

func TestUsageFileCanonicalFormTakesTheFastPath(t *testing.T) {
	for _, want := range canonicalUsageFiles(t) {
		checkSameFile(t, takesFastPath(t, want, decodeUsageFileCanonical))
	}
}

func TestUsageFileFastPathLeavesEverythingElse(t *testing.T) {
	data, _ := json.Marshal(canonicalUsageFiles(t)[1])
	good := string(data)
	sig := `"sig":"AQI="`
	for name, edit := range map[string]func(string) string{
		"line break in base64": func(s string) string { return strings.Replace(s, sig, `"sig":"AQ\nI="`, 1) },
		"raw line break":       func(s string) string { return strings.Replace(s, sig, "\"sig\":\"AQ\nI=\"", 1) },
		"unpadded base64":      func(s string) string { return strings.Replace(s, sig, `"sig":"AQI"`, 1) },
		"URL base64":           func(s string) string { return strings.Replace(s, sig, `"sig":"-_8="`, 1) },
		"empty sig":            func(s string) string { return strings.Replace(s, sig, `"sig":""`, 1) },
		"null reports":         func(s string) string { return s[:strings.Index(s, `"reports":`)] + `"reports":null}` },
		"unknown member":       func(s string) string { return strings.Replace(s, `"kid":"kX-_9",`, `"kid":"kX-_9","x":1,`, 1) },
		"kid twice":            func(s string) string { return strings.Replace(s, `"kid":"kX-_9",`, `"kid":"kX-_9","kid":"kX-_9",`, 1) },
		"escaped kid":          func(s string) string { return strings.Replace(s, `"kid":"kX-_9"`, `"kid":"k\u0058-_9"`, 1) },
		"another type":         func(s string) string { return strings.Replace(s, FileTypeUsage, FileTypeAck, 1) },
		"trailing comma":       func(s string) string { return strings.Replace(s, `}]}`, `},]}`, 1) },
		"truncated":            func(s string) string { return s[:len(s)-2] },
	} {
		bad := edit(good)
		if bad == good {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if _, ok := decodeUsageFileCanonical([]byte(bad)); ok && name != "another type" {
			t.Errorf("%s: the fast path took %s", name, bad)
		}
		checkSameFile(t, []byte(bad))
	}
}

// TestFastPathReservesNoMoreThanTheLimits: the fast decoders size their
// lists by counting ahead, and a document of nothing but what they count
// must not make them reserve memory for millions of entries.
func TestFastPathReservesNoMoreThanTheLimits(t *testing.T) {
	file := []byte(`{"type":"smartlic.usage-file/v1","created_at":"2026-03-02T09:00:00Z","reports":[` + strings.Repeat(`"sig"`, MaxOnlineUsageBytes/5))
	report := []byte(`{"report_id":"r","instance_id":"i","udi":{"pid":"P","sn":"S"},"created_at":"2026-03-02T09:00:00Z","measurements":[` + strings.Repeat(`{`, MaxOnlineUsageBytes))
	for name, decode := range map[string]func() bool{
		"usage file": func() bool { _, ok := decodeUsageFileCanonical(file); return ok },
		"report":     func() bool { _, ok := decodeRUMCanonical(report); return ok },
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if decode() {
			t.Fatalf("%s: the fast path took a malformed document", name)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
			t.Errorf("%s: %d MiB allocated for a %d MiB document that holds nothing", name, grew>>20, MaxOnlineUsageBytes>>20)
		}
	}
}

// checkSameFile fails if ParseUsageFile answers otherwise with its fast
// path than without.
func checkSameFile(t *testing.T, data []byte) {
	t.Helper()
	fast, fastErr := parseUsageFile(data, true)
	general, generalErr := parseUsageFile(data, false)
	if fmt.Sprint(fastErr) != fmt.Sprint(generalErr) {
		t.Fatalf("%q: with the fast path %v, without %v", data, fastErr, generalErr)
	}
	if fastErr == nil && !reflect.DeepEqual(fast, general) {
		t.Fatalf("%q: with the fast path\n%#v\nwithout\n%#v", data, fast, general)
	}
}

// FuzzUsageFileFastPath: whatever the bytes, ParseUsageFile answers the
// same with its fast path as without.
func FuzzUsageFileFastPath(f *testing.F) {
	for _, uf := range canonicalUsageFiles(f) {
		data, _ := json.Marshal(uf)
		f.Add(data)
	}
	f.Add([]byte(`{"type":"smartlic.usage-file/v1","created_at":"2026-03-02T09:00:00Z","reports":[{"type":"t","kid":"k","payload":"e30=","sig":"AA=="}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameFile(t, data)
	})
}

// benchReport is a report as the usage benchmark's devices send it, with
// its encoding.
func benchReport() (RUMReport, []byte) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := RUMReport{ReportID: "0123456789abcdef0123456789abcdef", InstanceID: "0f3a9c1e-5b7d-4e2a-9c3b-1d2e3f4a5b6c", UDI: UDI{PID: "C9300-24T", SN: "B1a2b3c4d-0000001"}, CreatedAt: now}
	for i := range 10 {
		r.Measurements = append(r.Measurements, Measurement{Tag: "network-advantage-" + string(rune('a'+i)), Count: int64(i + 1), Start: now.Add(-time.Hour), End: now})
	}
	payload, _ := json.Marshal(r)
	return r, payload
}

// BenchmarkDecodeRUMReport decodes the report the usage benchmark's
// devices send (10 measurements), by the fast path and by the general
// decoder.
func BenchmarkDecodeRUMReport(b *testing.B) {
	_, payload := benchReport()
	env := Envelope{Type: TypeRUMReport, Payload: payload}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeRUMReport(env); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		for b.Loop() {
			var r RUMReport
			if err := DecodePayload(env, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseUsageExchange parses an online exchange of ten reports of
// ten measurements, as the usage benchmark's devices send it.
func BenchmarkParseUsageExchange(b *testing.B) {
	r, payload := benchReport()
	f := UsageFile{Type: FileTypeUsage, CreatedAt: r.CreatedAt}
	for range 10 {
		f.Reports = append(f.Reports, Envelope{Type: TypeRUMReport, KeyID: r.InstanceID, Payload: payload, Sig: make([]byte, 64)})
	}
	data, _ := json.Marshal(f)
	for b.Loop() {
		if _, err := ParseUsageFile(data); err != nil {
			b.Fatal(err)
		}
	}
}
