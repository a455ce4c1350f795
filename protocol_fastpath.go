package smartlic

import (
	"bytes"
	"encoding/base64"
	"time"
)

// DecodeRUMReport decodes a usage report's payload, as DecodePayload does.
//
// A device writes its reports with json.Marshal, always in one shape: the
// members in field order, each once, no white space, ASCII strings without
// escapes, whole counts and UTC times. Reports in that shape, nearly all of
// them, are read by a decoder that knows it (a few times faster than the
// general one, which on a busy manager spent a tenth of its CPU on them);
// anything else at all, valid or not, goes to DecodePayload, which alone
// decides what is wrong with it. Whatever the fast decoder accepts, the
// general one decodes to the same report (FuzzRUMReportFastPath).
func DecodeRUMReport(env Envelope) (RUMReport, error) {
	if r, ok := decodeRUMCanonical(env.Payload); ok {
		return r, nil
	}
	var r RUMReport
	err := DecodePayload(env, &r)
	return r, err
}

// canonScanner reads the canonical form of a document: each method
// consumes exactly its token or clears ok, leaving the rest to the
// fallback.
type canonScanner struct {
	b   []byte
	ok  bool
	pos int
}

func decodeRUMCanonical(payload []byte) (RUMReport, bool) {
	s := canonScanner{b: payload, ok: true}
	var r RUMReport
	s.lit(`{"report_id":`)
	r.ReportID = s.str()
	s.lit(`,"instance_id":`)
	r.InstanceID = s.str()
	s.lit(`,"udi":{"pid":`)
	r.UDI.PID = s.str()
	s.lit(`,"sn":`)
	r.UDI.SN = s.str()
	s.lit(`},"created_at":`)
	r.CreatedAt = s.time()
	s.lit(`,"measurements":[`)
	if !s.ok {
		return RUMReport{}, false
	}
	// Every '{' left opens a measurement: their slice is allocated once,
	// for as many as a report may hold (a payload of nothing but braces
	// does not reserve memory for millions).
	r.Measurements = make([]Measurement, 0, min(bytes.Count(s.b[s.pos:], []byte{'{'}), MaxMeasurementsPerReport+1))
	if !s.peek(']') {
		for s.ok {
			var m Measurement
			s.lit(`{"tag":`)
			m.Tag = s.str()
			s.lit(`,"count":`)
			m.Count = s.count()
			s.lit(`,"start":`)
			m.Start = s.time()
			s.lit(`,"end":`)
			m.End = s.time()
			s.lit(`}`)
			r.Measurements = append(r.Measurements, m)
			if !s.peek(',') {
				break
			}
			s.pos++
		}
	}
	s.lit(`]}`)
	if !s.ok || s.pos != len(s.b) {
		return RUMReport{}, false
	}
	return r, true
}

// decodeUsageFileCanonical reads a usage file in the form json.Marshal
// gives it, as a device writes one: type, created_at, trust_requests when
// there are any, reports, and each envelope's type, kid, payload and sig,
// in that order. Its signed payloads, nearly all of its bytes, are found
// and decoded at the speed of base64 rather than of a JSON string reader.
func decodeUsageFileCanonical(data []byte) (UsageFile, bool) {
	s := canonScanner{b: data, ok: true}
	var f UsageFile
	s.lit(`{"type":`)
	f.Type = s.str()
	s.lit(`,"created_at":`)
	f.CreatedAt = s.time()
	if s.ok && s.peekLit(`,"trust_requests":`) {
		s.lit(`,"trust_requests":`)
		f.TrustRequests = s.envelopes()
	}
	s.lit(`,"reports":`)
	f.Reports = s.envelopes()
	s.lit(`}`)
	if !s.ok || s.pos != len(s.b) {
		return UsageFile{}, false
	}
	return f, true
}

// envelopes consumes a list of signed documents.
func (s *canonScanner) envelopes() []Envelope {
	s.lit(`[`)
	if !s.ok {
		return nil
	}
	// Every document has one "sig": the list is allocated once, for as
	// many as a file may hold.
	envs := make([]Envelope, 0, min(bytes.Count(s.b[s.pos:], []byte(`"sig"`)), MaxReportsPerFile+1))
	if s.peek(']') {
		s.pos++
		return envs
	}
	// The documents of a file share a type, and those of one instance a
	// kid: each string is made once.
	typ, kid := TypeRUMReport, ""
	for s.ok {
		var env Envelope
		s.lit(`{"type":`)
		env.Type = s.strLike(&typ)
		s.lit(`,"kid":`)
		env.KeyID = s.strLike(&kid)
		s.lit(`,"payload":`)
		env.Payload = s.base64()
		s.lit(`,"sig":`)
		env.Sig = s.base64()
		s.lit(`}`)
		envs = append(envs, env)
		if !s.peek(',') {
			break
		}
		s.pos++
	}
	s.lit(`]`)
	return envs
}

// base64 consumes a non-empty string of standard, padded base64. Go's
// decoder skips line breaks, which a strict reader refuses: a decoded
// length that does not match the text's is left to the fallback, as is
// anything the decoder refuses (an escape, a byte outside the alphabet).
func (s *canonScanner) base64() []byte {
	if !s.peek('"') {
		s.ok = false
		return nil
	}
	start := s.pos + 1
	end := bytes.IndexByte(s.b[start:], '"')
	if end <= 0 {
		s.ok = false
		return nil
	}
	text := s.b[start : start+end]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(out, text)
	if err != nil || base64.StdEncoding.EncodedLen(n) != len(text) {
		s.ok = false
		return nil
	}
	s.pos = start + end + 1
	return out[:n]
}

func (s *canonScanner) peekLit(l string) bool {
	return s.ok && len(s.b)-s.pos >= len(l) && string(s.b[s.pos:s.pos+len(l)]) == l
}

// lit consumes the literal l.
func (s *canonScanner) lit(l string) {
	if !s.peekLit(l) {
		s.ok = false
		return
	}
	s.pos += len(l)
}

func (s *canonScanner) peek(c byte) bool {
	return s.ok && s.pos < len(s.b) && s.b[s.pos] == c
}

// str consumes a string of printable ASCII without escapes (which is all
// that any identifier of the protocol holds).
func (s *canonScanner) str() string {
	if !s.peek('"') {
		s.ok = false
		return ""
	}
	start := s.pos + 1
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.pos = i + 1
			return string(s.b[start:i])
		case c < 0x20 || c > 0x7e || c == '\\':
			s.ok = false
			return ""
		}
	}
	s.ok = false
	return ""
}

// strLike consumes a string like str, but answers *last when the string
// is the same, and remembers it when it is not.
func (s *canonScanner) strLike(last *string) string {
	// *last holds only what str accepts, so bytes equal to it do too.
	if v := s.b[min(s.pos+1, len(s.b)):]; s.peek('"') && len(v) > len(*last) && v[len(*last)] == '"' && string(v[:len(*last)]) == *last {
		s.pos += len(*last) + 2
		return *last
	}
	*last = s.str()
	return *last
}

// count consumes a non-negative integer of at most 18 digits, without a
// leading zero: one that fits an int64 whatever its digits.
func (s *canonScanner) count() int64 {
	if !s.ok {
		return 0
	}
	var n int64
	i := s.pos
	for i < len(s.b) && i-s.pos < 19 && s.b[i] >= '0' && s.b[i] <= '9' {
		n = n*10 + int64(s.b[i]-'0')
		i++
	}
	digits := i - s.pos
	if digits == 0 || digits > 18 || (digits > 1 && s.b[s.pos] == '0') {
		s.ok = false
		return 0
	}
	s.pos = i
	return n
}

// time consumes a quoted UTC time as json.Marshal writes one:
// "YYYY-MM-DDTHH:MM:SS" with 1-9 digits of fraction or none, and "Z". A
// date or time out of range is left to the fallback to name.
func (s *canonScanner) time() time.Time {
	if !s.peek('"') {
		s.ok = false
		return time.Time{}
	}
	b := s.b[s.pos+1:]
	const fixed = len("2006-01-02T15:04:05")
	if len(b) < fixed+2 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		s.ok = false
		return time.Time{}
	}
	num := func(from, to int) int {
		v := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				s.ok = false
				return 0
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	i, nsec := fixed, 0
	if b[i] == '.' {
		i++
		digits := 0
		for i < len(b) && digits < 10 && b[i] >= '0' && b[i] <= '9' {
			nsec = nsec*10 + int(b[i]-'0')
			i++
			digits++
		}
		if digits == 0 || digits > 9 {
			s.ok = false
			return time.Time{}
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	if i+1 >= len(b) || b[i] != 'Z' || b[i+1] != '"' {
		s.ok = false
		return time.Time{}
	}
	if !s.ok || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		s.ok = false
		return time.Time{}
	}
	s.pos += 1 + i + 2
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
}

// daysIn is the number of days of a month in the proleptic Gregorian
// calendar that time.Parse checks dates against.
func daysIn(m time.Month, year int) int {
	// The day before the first of the next month.
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
