// Package rescode makes and reads the human-pasteable codes that carry
// reservations and export-control authorizations between an air-gapped
// product and the license manager: request, authorization, return and
// confirmation codes.
//
// A code is a kind prefix and a body in Crockford's base32, grouped in
// fives for reading aloud and typing:
//
//	RQ1-0B9CA-4TQ1Z-…-7K2M
//
// The body holds a length, the payload and a CRC-32C over kind, length and
// payload. Decode checks the characters, the length and the CRC before it
// returns anything, so a mistyped, transposed or truncated code is refused
// before any lookup or signature check is made with it. The checksum is not
// a signature: codes that must be unforgeable carry one in their payload.
//
// The format is documented in docs/protocols.md ("Paste-able codes").
package rescode

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"regexp"
	"strings"

	"github.com/smartlic/smartlic"
)

// Alphabet is Crockford's base32: digits and upper-case letters without
// I, L, O and U, so that no two symbols look alike.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// GroupSize is how many body characters stand between two hyphens.
const GroupSize = 5

// MaxPayload bounds the payload of a code: a code longer than a few
// hundred characters is no longer something a person pastes.
const MaxPayload = 1024

// Kind names a kind of code and its version: two upper-case letters and a
// digit ("RQ1"). It is the visible prefix and is covered by the checksum,
// so a code of one kind is never read as another.
type Kind string

var kindRE = regexp.MustCompile(`^[A-Z]{2}[0-9]$`)

// Valid reports whether k has the shape of a kind.
func (k Kind) Valid() bool { return kindRE.MatchString(string(k)) }

var enc = base32.NewEncoding(Alphabet).WithPadding(base32.NoPadding)

// castagnoli is CRC-32C: it detects every error burst of up to 32 bits, so
// every single wrong character (5 bits) and every swap of two neighbouring
// characters (10 bits) in the body.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns the code of kind k carrying payload. It panics only on a
// programming error (an invalid kind or an oversized payload).
func Encode(k Kind, payload []byte) string {
	if !k.Valid() || len(payload) > MaxPayload {
		panic("rescode: Encode with invalid kind or oversized payload")
	}
	body := binary.AppendUvarint(nil, uint64(len(payload)))
	body = append(body, payload...)
	body = binary.BigEndian.AppendUint32(body, checksum(k, body))
	text := enc.EncodeToString(body)
	var b strings.Builder
	b.Grow(len(k) + len(text) + len(text)/GroupSize + 1)
	b.WriteString(string(k))
	for i := 0; i < len(text); i += GroupSize {
		b.WriteByte('-')
		b.WriteString(text[i:min(i+GroupSize, len(text))])
	}
	return b.String()
}

func checksum(k Kind, body []byte) uint32 {
	c := crc32.Update(0, castagnoli, []byte(k))
	c = crc32.Update(c, castagnoli, []byte{0})
	return crc32.Update(c, castagnoli, body)
}

// Normalize returns text as Encode would have written it, reading it the
// way Crockford's base32 is meant to be read: case-insensitive, spaces,
// line breaks and hyphens ignored, O read as 0 and I or L as 1. It does not
// check the code.
func Normalize(text string) (kind, body string) {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) < 3 {
		return s, ""
	}
	// The prefix is letters and a digit: its letters are not read as
	// digits, only the body's are.
	body = strings.Map(func(r rune) rune {
		switch r {
		case 'O':
			return '0'
		case 'I', 'L':
			return '1'
		}
		return r
	}, s[3:])
	return s[:3], body
}

// Decode checks text and returns the payload of a code of kind want. The
// errors are *smartlic.Error with code smartlic.ECodeInvalid (field is the argument name
// given) and say which check failed; nothing else is read from a code that
// fails one.
func Decode(field string, want Kind, text string) ([]byte, error) {
	if len(text) > 4*MaxPayload {
		return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "is too long to be a code")
	}
	kind, body := Normalize(text)
	if kind == "" {
		return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "is empty")
	}
	if Kind(kind) != want {
		if Kind(kind).Valid() {
			msg := fmt.Sprintf("is a %s code; a %s code was expected", kind, want)
			if where, ok := goesTo[Kind(kind)]; ok {
				msg += " (a " + kind + " code " + where + ")"
			}
			return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "%s", msg)
		}
		return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "does not start with %s", want)
	}
	for _, r := range body {
		if !strings.ContainsRune(Alphabet, r) {
			return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "character %q is not used in codes (they use digits and letters except I, L, O and U)", r)
		}
	}
	raw, err := enc.DecodeString(body)
	if err != nil {
		// An unpadded body of impossible length: a character was lost or
		// added.
		return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "is incomplete: a character is missing or extra")
	}
	if enc.EncodeToString(raw) != body {
		// A possible length, but the last character's unused bits are
		// not zero: that character was mistyped.
		return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "fails its check: its last character is mistyped")
	}
	n, ln := binary.Uvarint(raw)
	if ln <= 0 || n > MaxPayload || uint64(len(raw)) != uint64(ln)+n+4 {
		return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "is incomplete, has extra characters or is mistyped in its first characters: check it was copied whole")
	}
	sum := binary.BigEndian.Uint32(raw[len(raw)-4:])
	if checksum(want, raw[:len(raw)-4]) != sum {
		return nil, smartlic.Errorf(smartlic.ECodeInvalid, field, "fails its check: a character is mistyped")
	}
	return raw[ln : len(raw)-4], nil
}

// goesTo says where each kind of code is entered, for a code pasted into
// the wrong place.
var goesTo = map[Kind]string{
	KindRequest:           "goes to the manager: smartlic reservation create --request",
	KindAuthorization:     "goes to the device: license smart reservation install",
	KindReturn:            "goes to the manager: smartlic reservation return --code",
	KindConfirmation:      "goes to the manager: smartlic reservation confirm --code",
	KindSLACRequest:       "goes to the manager: smartlic slac issue --request",
	KindSLACAuthorization: "goes to the device: slac install",
	KindSLACReturn:        "goes to the manager: smartlic slac return --code",
}

// KindOf returns the kind prefix of text, normalized, without checking the
// code: for callers that accept several kinds in one field.
func KindOf(text string) Kind {
	k, _ := Normalize(text)
	return Kind(k)
}

// Writer builds a compact binary payload: unsigned varints and
// length-prefixed strings, the encoding/binary varint format.
type Writer struct{ buf []byte }

// Uint appends v as a uvarint.
func (w *Writer) Uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

// Bytes appends b with its length.
func (w *Writer) Bytes(b []byte) { w.Uint(uint64(len(b))); w.buf = append(w.buf, b...) }

// String appends s with its length.
func (w *Writer) String(s string) { w.Bytes([]byte(s)) }

// Fixed appends b as is: for fields of a fixed size (nonces, keys,
// signatures) whose length the reader knows.
func (w *Writer) Fixed(b []byte) { w.buf = append(w.buf, b...) }

// Payload returns what was written.
func (w *Writer) Payload() []byte { return w.buf }

// Reader reads what a Writer wrote. The first malformed field sets Err and
// every later read returns zero values, so a decoder reads all its fields
// and checks Err once.
type Reader struct {
	buf []byte
	Err error
}

// NewReader reads payload.
func NewReader(payload []byte) *Reader { return &Reader{buf: payload} }

func (r *Reader) fail(what string) {
	if r.Err == nil {
		r.Err = smartlic.Errorf(smartlic.ECodeInvalid, "", "malformed %s", what)
	}
	r.buf = nil
}

// Uint reads a uvarint.
func (r *Reader) Uint(what string) uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// Bytes reads a length-prefixed byte string of at most max bytes.
func (r *Reader) Bytes(what string, max int) []byte {
	n := r.Uint(what)
	if r.Err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(r.buf)) {
		r.fail(what)
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

// String reads a length-prefixed string of at most max bytes.
func (r *Reader) String(what string, max int) string { return string(r.Bytes(what, max)) }

// Fixed reads exactly n bytes.
func (r *Reader) Fixed(what string, n int) []byte {
	if r.Err != nil {
		return nil
	}
	if len(r.buf) < n {
		r.fail(what)
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

// Rest returns the bytes not read yet.
func (r *Reader) Rest() []byte { return r.buf }

// Done sets Err if bytes are left: a payload with trailing bytes is not one
// the encoder wrote.
func (r *Reader) Done() error {
	if r.Err == nil && len(r.buf) > 0 {
		r.fail("code: trailing bytes")
	}
	return r.Err
}
