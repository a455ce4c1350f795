package smartlic

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Smart Licensing Using Policy (docs/protocols.md): trust codes bind an
// instance's UDI to its key, the instance signs RUM reports of its usage,
// the manager answers each batch with a signed ACK. Offline, the same
// signed documents travel in files: a trust file (manager → devices), a
// usage file (devices → manager) and an ACK file (manager → devices).
const (
	// TypeTrustRequest asks for a trust code. Self-signed: kid is the
	// instance's new public key, as for a registration request.
	TypeTrustRequest = "smartlic.trust-request/v1"
	// TypeTrustCode is the manager's statement that a UDI (and, once
	// bound, a public key) belongs to a Smart Account.
	TypeTrustCode = "smartlic.trust-code/v1"
	// TypeRUMReport is a usage report, signed by the instance (kid =
	// instance id).
	TypeRUMReport = "smartlic.rum-report/v1"
	// TypeUsageAck is the manager's answer to the reports of one instance.
	TypeUsageAck = "smartlic.usage-ack/v1"
	// TypePolicyModeRequest moves a classic-registered instance to Using
	// Policy; a device request signed with its registered key.
	TypePolicyModeRequest = "smartlic.policy-mode-request/v1"
)

// File types: the "type" of the JSON containers that carry signed
// documents offline. A container is not signed itself — every document in
// it is, and each device takes only its own — but its type keeps a trust
// file from being imported as an ACK file, or uploaded as usage.
const (
	FileTypeTrust = "smartlic.trust-file/v1"
	FileTypeUsage = "smartlic.usage-file/v1"
	FileTypeAck   = "smartlic.ack-file/v1"
)

// Limits of Using Policy documents and files (docs/protocols.md).
const (
	MaxMeasurementsPerReport = 200
	MaxReportsPerFile        = 10_000
	MaxTrustCodesPerFile     = 10_000
	// MaxUsageFileBytes bounds an uploaded usage file (and an ACK or trust
	// file a device imports): 10,000 reports of 10 measurements take about
	// 15 MiB.
	MaxUsageFileBytes = 32 << 20
	// MaxOnlineReports and MaxOnlineUsageBytes bound one online exchange,
	// which needs no credential but the signatures inside: a device with
	// more pending reports sends them in several exchanges.
	MaxOnlineReports    = 200
	MaxOnlineUsageBytes = 4 << 20
	// MaxPendingReports is how many unacknowledged reports an agent keeps;
	// older ones are dropped first (each later report supersedes them).
	MaxPendingReports = 1000
	// MaxMeasurementCount bounds one measurement's count, as it bounds an
	// authorization's.
	MaxMeasurementCount = 1_000_000
)

// Error codes of Using Policy.
const (
	// ENotTrusted refuses a report (or a request) from an instance that
	// holds no trust code, or whose trust is not bound to the signing key.
	ENotTrusted = "not_trusted"
	// EWrongAccount refuses a usage file, or a report in it, that belongs
	// to another Smart Account than the one it is uploaded to.
	EWrongAccount = "wrong_smart_account"
)

// TrustRequest asks the manager for a trust code. It carries one of two
// credentials: a registration token (online; one use of the token is
// consumed, exactly as a registration consumes one), or an offline trust
// code for this UDI that does not name a key yet (from a trust file): the
// first request that presents it binds the key that signed the request.
type TrustRequest struct {
	UDI       UDI       `json:"udi"`
	Hostname  string    `json:"hostname,omitempty"`
	PublicKey []byte    `json:"public_key"` // Ed25519, 32 bytes; the signer
	SentAt    time.Time `json:"sent_at"`
	Nonce     string    `json:"nonce,omitempty"`
	Token     string    `json:"token,omitempty"`
	TrustCode *Envelope `json:"trust_code,omitempty"`
	// Force replaces the trust of an instance that already has a bound key
	// (a token is required then): a re-installed device with a new key.
	Force bool `json:"force,omitempty"`
}

// TrustCode is the manager's statement of an instance's trust.
type TrustCode struct {
	Serial           string `json:"serial"`
	InstanceID       string `json:"instance_id"`
	UDI              UDI    `json:"udi"`
	SmartAccount     string `json:"smart_account"` // domain
	SmartAccountName string `json:"smart_account_name"`
	VirtualAccount   string `json:"virtual_account"`
	// PublicKey is the instance's key; empty in a trust file, where the
	// key is not known yet (see TrustRequest).
	PublicKey []byte    `json:"public_key,omitempty"`
	IssuedAt  time.Time `json:"issued_at"`
}

// Bound reports whether the trust code names the instance's key.
func (c TrustCode) Bound() bool { return len(c.PublicKey) > 0 }

// Measurement is the use of one license during an interval: Count
// licenses of Tag from Start to End.
type Measurement struct {
	Tag   string    `json:"tag"`
	Count int64     `json:"count"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// RUMReport is one usage report of an instance (Resource Utilization
// Measurement). ReportID is the instance's, unique per instance: the
// manager counts a report once however often it arrives.
type RUMReport struct {
	ReportID     string        `json:"report_id"`
	InstanceID   string        `json:"instance_id"`
	UDI          UDI           `json:"udi"`
	CreatedAt    time.Time     `json:"created_at"`
	Measurements []Measurement `json:"measurements"`
}

// Validate checks a report's fields against the rules of the protocol at
// now (the manager's clock): a report id of 1-64 URL-safe characters, at
// most MaxMeasurementsPerReport measurements, each with a valid tag, a
// count within bounds and an interval that ends no earlier than it starts
// and not in the future (beyond the allowed clock skew).
func (r RUMReport) Validate(now time.Time) error {
	if !isReportID(r.ReportID) {
		return Invalid("report_id", "must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-' (got %q)", clip(r.ReportID))
	}
	if r.InstanceID == "" {
		return Invalid("instance_id", "is required")
	}
	if err := r.UDI.Validate("udi"); err != nil {
		return err
	}
	future := now.Add(DeviceClockSkew)
	if r.CreatedAt.IsZero() {
		return Invalid("created_at", "is required")
	}
	if r.CreatedAt.After(future) {
		return Invalid("created_at", "is in the future (%s; the manager's clock says %s)", r.CreatedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if len(r.Measurements) > MaxMeasurementsPerReport {
		return Invalid("measurements", "at most %d per report (got %d)", MaxMeasurementsPerReport, len(r.Measurements))
	}
	for i, m := range r.Measurements {
		if !isTag(m.Tag) {
			return ValidateTag(fmt.Sprintf("measurements[%d].tag", i), m.Tag)
		}
		field := "measurements[" + strconv.Itoa(i) + "]"
		switch {
		case m.Count < 0 || m.Count > MaxMeasurementCount:
			return Invalid(field+".count", "must be between 0 and %d (got %d)", MaxMeasurementCount, m.Count)
		case m.Start.IsZero() || m.End.IsZero():
			return Invalid(field, "start and end are required")
		case m.End.Before(m.Start):
			return Invalid(field+".end", "ends (%s) before it starts (%s)", m.End.UTC().Format(time.RFC3339), m.Start.UTC().Format(time.RFC3339))
		case m.End.After(future):
			return Invalid(field+".end", "is in the future (%s; the manager's clock says %s)", m.End.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		case m.End.After(r.CreatedAt.Add(DeviceClockSkew)):
			return Invalid(field+".end", "is after the report was created (%s)", r.CreatedAt.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// KeepIfNewer makes m its tag's measurement in latest unless latest holds
// one that ends later: of measurements taken in the order they were
// listed (and reports in the order they were sent), the newest stays.
func (m Measurement) KeepIfNewer(latest map[string]Measurement) {
	if o, ok := latest[m.Tag]; !ok || !m.End.Before(o.End) {
		latest[m.Tag] = m
	}
}

// ReportRejection says why one report was not accepted. Code is an error
// code (signature_invalid, not_trusted, invalid, conflict,
// wrong_smart_account, not_registered…).
type ReportRejection struct {
	ReportID string `json:"report_id,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
}

// UsageAck is the manager's signed answer to the reports of one instance:
// which it accepted (including copies of reports accepted before), which it
// rejected and why, the policy in force and when the next report is due.
type UsageAck struct {
	AckID        string            `json:"ack_id"`
	InstanceID   string            `json:"instance_id"`
	UDI          UDI               `json:"udi"`
	SmartAccount string            `json:"smart_account"`
	IssuedAt     time.Time         `json:"issued_at"`
	Accepted     []string          `json:"accepted"`
	Rejected     []ReportRejection `json:"rejected"`
	Policy       Policy            `json:"policy"`
	// NextReportDue is when the policy wants the next report; nil when it
	// asks for none.
	NextReportDue *time.Time `json:"next_report_due,omitempty"`
	// TrustCode is a trust code bound to the instance's key, when this
	// exchange bound it (an offline trust code presented for the first
	// time); the device keeps it instead of the unbound one.
	TrustCode *Envelope `json:"trust_code,omitempty"`
	// Usage is what the manager counts for the instance after these
	// reports, with each line's status.
	Usage []Usage `json:"usage"`
}

// UsageFile carries an instance's (or a collector's) unacknowledged
// reports, and the trust requests that bind their keys, to the manager.
type UsageFile struct {
	Type          string     `json:"type"`
	CreatedAt     time.Time  `json:"created_at"`
	TrustRequests []Envelope `json:"trust_requests,omitempty"`
	Reports       []Envelope `json:"reports"`
}

// AckFile is the manager's answer to a usage file: one signed ACK per
// instance, and a summary that lists every report not accepted, including
// those no instance can be held to (an unknown signer).
type AckFile struct {
	Type         string         `json:"type"`
	UploadID     string         `json:"upload_id,omitempty"`
	SmartAccount string         `json:"smart_account"`
	IssuedAt     time.Time      `json:"issued_at"`
	Acks         []Envelope     `json:"acks"`
	Summary      UsageSummary   `json:"summary"`
	Rejections   []FileRejected `json:"rejections"`
}

// UsageSummary counts what became of a usage file's reports.
type UsageSummary struct {
	Reports  int `json:"reports"`
	Accepted int `json:"accepted"` // duplicates of accepted reports included
	Rejected int `json:"rejected"`
	// Duplicates were accepted before: they changed nothing this time.
	Duplicates int `json:"duplicates"`
	Instances  int `json:"instances"`
}

// FileRejected is one document of a usage file that was not accepted: its
// position in the file, and what can be read of it.
type FileRejected struct {
	Index      int    `json:"index"` // 0-based, in reports (or trust_requests when Kind says so)
	Kind       string `json:"kind"`  // "report" or "trust_request"
	ReportID   string `json:"report_id,omitempty"`
	InstanceID string `json:"instance_id,omitempty"`
	UDI        string `json:"udi,omitempty"`
	ReportRejection
}

// TrustFile carries offline trust codes from the manager to devices: one
// signed trust code per UDI, none of them bound to a key yet.
type TrustFile struct {
	Type           string     `json:"type"`
	SmartAccount   string     `json:"smart_account"`
	VirtualAccount string     `json:"virtual_account"`
	IssuedAt       time.Time  `json:"issued_at"`
	TrustCodes     []Envelope `json:"trust_codes"`
	// Keys are the manager's verification keys, for a device that never
	// reached the manager: it pins them at its first import (trust on
	// first use, as at the first online exchange).
	Keys PublicKeySet `json:"keys"`
}

// ParseUsageFile decodes a usage file strictly: its size, its type, no
// unknown fields, at most MaxReportsPerFile reports. The documents inside
// are not trusted yet: each is verified on its own.
func ParseUsageFile(data []byte) (UsageFile, error) {
	return parseUsageFile(data, true)
}

// parseUsageFile is ParseUsageFile, with the canonical form's fast path
// or (to hold it to the same answers in tests) without.
func parseUsageFile(data []byte, fastPath bool) (UsageFile, error) {
	var f UsageFile
	var fast func() bool
	if fastPath {
		fast = func() bool {
			var ok bool
			f, ok = decodeUsageFileCanonical(data)
			return ok
		}
	}
	check := func() error {
		if err := checkEnvelopeText("trust_requests", f.TrustRequests); err != nil {
			return err
		}
		return checkEnvelopeText("reports", f.Reports)
	}
	if err := parseFile(data, FileTypeUsage, "usage file", &f, fast, func() string { return f.Type }, check); err != nil {
		return f, err
	}
	switch {
	case len(f.Reports) > MaxReportsPerFile:
		return f, Invalid("reports", "a usage file holds at most %d reports (got %d); split it", MaxReportsPerFile, len(f.Reports))
	case len(f.TrustRequests) > MaxReportsPerFile:
		return f, Invalid("trust_requests", "a usage file holds at most %d trust requests (got %d)", MaxReportsPerFile, len(f.TrustRequests))
	case len(f.Reports) == 0 && len(f.TrustRequests) == 0:
		return f, Invalid("reports", "the usage file holds no reports")
	}
	return f, nil
}

// ParseAckFile decodes an ACK file strictly.
func ParseAckFile(data []byte) (AckFile, error) {
	var f AckFile
	if err := parseFile(data, FileTypeAck, "ACK file", &f, nil, func() string { return f.Type }, func() error { return checkEnvelopeText("acks", f.Acks) }); err != nil {
		return f, err
	}
	if len(f.Acks) > MaxReportsPerFile {
		return f, Invalid("acks", "an ACK file holds at most %d ACKs (got %d)", MaxReportsPerFile, len(f.Acks))
	}
	return f, nil
}

// ParseTrustFile decodes a trust file strictly.
func ParseTrustFile(data []byte) (TrustFile, error) {
	var f TrustFile
	if err := parseFile(data, FileTypeTrust, "trust file", &f, nil, func() string { return f.Type }, func() error { return checkEnvelopeText("trust_codes", f.TrustCodes) }); err != nil {
		return f, err
	}
	switch {
	case len(f.TrustCodes) > MaxTrustCodesPerFile:
		return f, Invalid("trust_codes", "a trust file holds at most %d trust codes (got %d)", MaxTrustCodesPerFile, len(f.TrustCodes))
	case len(f.TrustCodes) == 0:
		return f, Invalid("trust_codes", "the trust file holds no trust codes")
	}
	return f, nil
}

// FileType reads only the type of a Using Policy file, so that a device's
// "import" can tell a trust file from an ACK file.
func FileType(data []byte) (string, error) {
	if len(data) > MaxUsageFileBytes {
		return "", Errorf(ETooLarge, "file", "the file is larger than %d bytes", MaxUsageFileBytes)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", Invalid("file", "not a smartlic file (JSON expected): %v", err)
	}
	switch head.Type {
	case FileTypeTrust, FileTypeUsage, FileTypeAck:
		return head.Type, nil
	}
	return "", Invalid("type", "not a Using Policy file: type %q (want %s, %s or %s)", clip(head.Type), FileTypeTrust, FileTypeAck, FileTypeUsage)
}

// parseFile decodes data into v strictly, runs check on what it decoded,
// and checks its type. fast, when given, may decode v first, from a form
// it knows, and say so; v is left as it was when it does not.
func parseFile(data []byte, want, what string, v any, fast func() bool, typ func() string, check func() error) error {
	if len(data) > MaxUsageFileBytes {
		return Errorf(ETooLarge, "file", "the %s is larger than %d bytes", what, MaxUsageFileBytes)
	}
	if fast != nil && fast() {
		return checkFile(want, what, typ, check)
	}
	// One strict pass (v2's decoder, several times faster than v1's on a
	// file of thousands of reports); only a file it refuses is read again
	// for its type, so that a file of another kind is named as such
	// rather than as a malformed one of this kind.
	err := jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true))
	if err != nil {
		var head struct {
			Type string `json:"type"`
		}
		if herr := jsonv2.Unmarshal(data, &head); herr == nil && head.Type != "" && head.Type != want {
			return Invalid("type", "not a %s: its type is %q, want %q", what, clip(head.Type), want)
		}
		return Invalid(jsonErrorField(err, "file"), "not a valid %s: %s", what, jsonProblem(err))
	}
	return checkFile(want, what, typ, check)
}

// checkFile runs check on a decoded file and checks its type.
func checkFile(want, what string, typ func() string, check func() error) error {
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	if t := typ(); t != want {
		return Invalid("type", "not a %s: its type is %q, want %q", what, clip(t), want)
	}
	return nil
}

// jsonProblem says what is wrong in a decoding error's own words, without
// the decoder's (the Go types it decodes into are not the protocol's).
// Where it is wrong is the field jsonErrorField names.
func jsonProblem(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early (truncated)"
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se.Err, se.ByteOffset)
	}
	var me *jsonv2.SemanticError
	if !errors.As(err, &me) {
		return err.Error()
	}
	got := ""
	if me.JSONKind != 0 {
		got = " (got " + jsonKindName(me.JSONKind) + ")"
	}
	switch t := me.GoType; {
	case errors.Is(me.Err, jsonv2.ErrUnknownName):
		return fmt.Sprintf("unknown member %q", clip(lastPointerToken(me.JSONPointer)))
	case t == nil:
	case t == reflect.TypeFor[[]byte]() && me.JSONKind == '"':
		return fmt.Sprintf("must be standard base64 with padding (RFC 4648): %v", me.Err)
	case t == reflect.TypeFor[time.Time]() && me.JSONKind == '"':
		return "must be an RFC 3339 time such as 2026-03-02T09:00:00Z"
	default:
		switch t.Kind() {
		case reflect.String:
			return "must be a string" + got
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return "must be a whole number in range" + got
		case reflect.Bool:
			return "must be true or false" + got
		case reflect.Slice, reflect.Array:
			return "must be a list" + got
		case reflect.Struct, reflect.Map, reflect.Pointer:
			return "must be an object" + got
		}
	}
	if me.Err != nil {
		return me.Err.Error()
	}
	return "has the wrong type" + got
}

func jsonKindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "true or false"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "a list"
	}
	return "something else"
}

func lastPointerToken(p jsontext.Pointer) string {
	last := ""
	for tok := range p.Tokens() {
		last = tok
	}
	return last
}

// jsonErrorField names the member a decoding error is about, as the API
// names fields ("reports[2].sig"), or whole when it is about none.
func jsonErrorField(err error, whole string) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return whole // truncated: about the file, not where it stops
	}
	var p jsontext.Pointer
	var se *jsontext.SyntacticError
	var me *jsonv2.SemanticError
	switch {
	case errors.As(err, &se):
		p = se.JSONPointer
	case errors.As(err, &me):
		p = me.JSONPointer
	}
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return whole
	}
	return b.String()
}

// checkEnvelopeText refuses, naming it, an envelope's type or kid that is
// not text: the rest of an envelope is base64, which the decoder checks.
func checkEnvelopeText(list string, envs []Envelope) error {
	for i, env := range envs {
		if err := ValidateText(fmt.Sprintf("%s[%d].type", list, i), env.Type); err != nil {
			return err
		}
		if err := ValidateText(fmt.Sprintf("%s[%d].kid", list, i), env.KeyID); err != nil {
			return err
		}
	}
	return nil
}

// clip shortens what an error quotes from untrusted input.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
