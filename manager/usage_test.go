package manager_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// trustEnv is a self-signed trust request of d.
func (d *device) trustEnv(t *testing.T, token string, code *smartlic.Envelope, now time.Time) smartlic.Envelope {
	t.Helper()
	env, err := sign.Seal(smartlic.TypeTrustRequest, base64.RawURLEncoding.EncodeToString(d.pub), d.priv, smartlic.TrustRequest{
		UDI: d.udi, Hostname: "sw-" + d.udi.SN, PublicKey: d.pub, SentAt: now, Token: token, TrustCode: code,
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// trust establishes d's trust online with a token.
func (f *fixture) trust(d *device, token string) smartlic.TrustCode {
	f.t.Helper()
	env := must[smartlic.Envelope](f.t)(f.mgr.RequestTrust(context.Background(), d.trustEnv(f.t, token, nil, f.clock.Now())))
	var tc smartlic.TrustCode
	if err := sign.Open(env, smartlic.TypeTrustCode, f.keys(), &tc); err != nil {
		f.t.Fatalf("trust code does not verify: %v", err)
	}
	d.id = tc.InstanceID
	return tc
}

func (f *fixture) keys() sign.KeySet {
	return sign.NewKeySet(must[smartlic.PublicKeySet](f.t)(f.mgr.PublicKeys(context.Background())).Keys)
}

// report signs a RUM report of d.
func (d *device) report(t *testing.T, id string, created time.Time, ms ...smartlic.Measurement) smartlic.Envelope {
	t.Helper()
	env, err := sign.Seal(smartlic.TypeRUMReport, d.id, d.priv, smartlic.RUMReport{ReportID: id, InstanceID: d.id, UDI: d.udi, CreatedAt: created, Measurements: ms})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func measure(tag string, n int64, start, end time.Time) smartlic.Measurement {
	return smartlic.Measurement{Tag: tag, Count: n, Start: start, End: end}
}

func usageFile(reports ...smartlic.Envelope) smartlic.UsageFile {
	return smartlic.UsageFile{Type: smartlic.FileTypeUsage, Reports: reports}
}

// openAck verifies the one ACK of a file and returns it.
func (f *fixture) openAck(file smartlic.AckFile) smartlic.UsageAck {
	f.t.Helper()
	if len(file.Acks) != 1 {
		f.t.Fatalf("ACK file has %d ACKs, want 1: %+v", len(file.Acks), file)
	}
	var ack smartlic.UsageAck
	if err := sign.Open(file.Acks[0], smartlic.TypeUsageAck, f.keys(), &ack); err != nil {
		f.t.Fatalf("ACK does not verify: %v", err)
	}
	return ack
}

func (f *fixture) inUse(sa, tag string) int64 {
	f.t.Helper()
	return f.pool(sa, smartlic.DefaultVAName, tag, false).InUse
}

func TestUsingPolicyOnline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{MaxUses: ptr(int64(1))})
		d := newDevice(t, "POL1")
		tc := f.trust(d, tok)
		if !tc.Bound() || tc.SmartAccount != "acme.example" || tc.UDI != d.udi {
			t.Fatalf("trust code: %+v", tc)
		}
		// The token had one use: a second device is refused.
		_, err := f.mgr.RequestTrust(context.Background(), newDevice(t, "POL2").trustEnv(t, tok, nil, f.clock.Now()))
		wantCode(t, err, smartlic.ETokenExhausted)

		t0 := f.clock.Now()
		f.clock.Advance(time.Hour)
		r1 := d.report(t, "r1", f.clock.Now(), measure("network-advantage", 3, t0, f.clock.Now()), measure("network-essentials", 1, t0, f.clock.Now()))
		ack := f.openAck(must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(r1))))
		if len(ack.Accepted) != 1 || ack.Accepted[0] != "r1" || len(ack.Rejected) != 0 || ack.InstanceID != d.id || ack.Policy.Name == "" {
			t.Fatalf("ACK: %+v", ack)
		}
		if ack.NextReportDue == nil || !ack.NextReportDue.Equal(f.clock.Now().Add(90*smartlic.Day)) {
			t.Errorf("next report due %v, want this report + 90 days (subscription)", ack.NextReportDue)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != 3 {
			t.Fatalf("in use %d, want 3", n)
		}

		// The same report twice more: accepted, counted once.
		for range 2 {
			file := must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(r1)))
			if a := f.openAck(file); len(a.Accepted) != 1 || file.Summary.Duplicates != 1 {
				t.Fatalf("copy: %+v %+v", a, file.Summary)
			}
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != 3 {
			t.Fatalf("in use %d after copies, want 3", n)
		}

		// A newer report lowers usage; an older one arriving late does not
		// set it back.
		t1 := f.clock.Now()
		f.clock.Advance(time.Hour)
		r3 := d.report(t, "r3", f.clock.Now(), measure("network-advantage", 1, t1, f.clock.Now()))
		late := d.report(t, "r2", f.clock.Now(), measure("network-advantage", 5, t0, t1.Add(-time.Minute)))
		must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(r3)))
		ack = f.openAck(must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(late))))
		if len(ack.Accepted) != 1 {
			t.Fatalf("late report not accepted: %+v", ack)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != 1 {
			t.Fatalf("in use %d after a late older report, want 1", n)
		}
		inst := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.Domain, smartlic.DefaultVAName, d.id))
		if inst.Mode != smartlic.ModePolicy || inst.LastReportAt == nil || inst.FirstUseAt == nil || !inst.FirstUseAt.Equal(t0) ||
			inst.UsageChangedAt == nil || !inst.UsageChangedAt.Equal(t1) || inst.LastAckAt == nil {
			t.Errorf("instance reporting times: %+v", inst)
		}
		// A classic request from a policy-mode instance is refused.
		_, err = f.authorize(d, use("network-advantage", 1))
		wantCode(t, err, smartlic.EConflict)
	})
}

// TestUsingPolicyBadReports: each bad report gets a precise code, the good
// ones in the same exchange are accepted, and the bad ones change nothing.
func TestUsingPolicyBadReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		d := newDevice(t, "POL1")
		f.trust(d, tok)
		other := newDevice(t, "POL2")
		f.trust(other, tok)
		stranger := newDevice(t, "POL3") // never trusted
		stranger.id = "0190a000-0000-7000-8000-00000000dead"

		t0 := f.clock.Now()
		f.clock.Advance(time.Hour)
		now := f.clock.Now()
		good := d.report(t, "good", now, measure("network-advantage", 2, t0, now))
		tampered := d.report(t, "tampered", now, measure("network-advantage", 1, t0, now))
		tampered.Payload = []byte(string(tampered.Payload[:len(tampered.Payload)-2]) + " }")
		retyped, err := sign.Seal(smartlic.TypeAuthRequest, d.id, d.priv, smartlic.RUMReport{ReportID: "retyped", InstanceID: d.id, UDI: d.udi, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		unsigned := d.report(t, "unsigned", now)
		unsigned.Sig = make([]byte, ed25519.SignatureSize)
		wrongUDI, _ := sign.Seal(smartlic.TypeRUMReport, d.id, d.priv, smartlic.RUMReport{ReportID: "wrong-udi", InstanceID: d.id, UDI: other.udi, CreatedAt: now})
		otherKey, _ := sign.Seal(smartlic.TypeRUMReport, d.id, other.priv, smartlic.RUMReport{ReportID: "other-key", InstanceID: d.id, UDI: d.udi, CreatedAt: now})
		noTrust := stranger.report(t, "no-trust", now)
		future := d.report(t, "future", now, measure("network-advantage", 9, t0, now.Add(time.Hour)))
		backwards := d.report(t, "backwards", now, measure("network-advantage", 9, now, t0))
		notAllowed := d.report(t, "no-such-license", now, measure("dna-advantage", 1, t0, now))

		file := must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(),
			usageFile(good, tampered, retyped, unsigned, wrongUDI, otherKey, noTrust, future, backwards, notAllowed)))
		want := map[string]string{
			"tampered": smartlic.ESignature, "retyped": smartlic.ESignature, "unsigned": smartlic.ESignature,
			"wrong-udi": smartlic.ESignature, "other-key": smartlic.ESignature, "no-trust": smartlic.ENotTrusted,
			"future": smartlic.EInvalid, "backwards": smartlic.EInvalid, "no-such-license": smartlic.EInvalid,
		}
		byIndex := []string{"good", "tampered", "retyped", "unsigned", "wrong-udi", "other-key", "no-trust", "future", "backwards", "no-such-license"}
		if file.Summary.Accepted != 1 || file.Summary.Rejected != len(want) || len(file.Rejections) != len(want) {
			t.Fatalf("summary %+v, rejections %+v", file.Summary, file.Rejections)
		}
		for _, r := range file.Rejections {
			name := byIndex[r.Index]
			if want[name] != r.Code {
				t.Errorf("%s: code %q (%s), want %q", name, r.Code, r.Message, want[name])
			}
		}
		ack := f.openAck(file)
		if len(ack.Accepted) != 1 || ack.Accepted[0] != "good" {
			t.Errorf("ACK accepted %v", ack.Accepted)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != 2 {
			t.Errorf("in use %d, want 2 (the good report only)", n)
		}
		// A different report under a used id is refused.
		reused := d.report(t, "good", now, measure("network-advantage", 7, t0, now))
		file = must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(reused)))
		if len(file.Rejections) != 1 || file.Rejections[0].Code != smartlic.EConflict {
			t.Errorf("reused id: %+v", file.Rejections)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != 2 {
			t.Errorf("in use %d, want 2", n)
		}
	})
}

// TestUsingPolicyOnlyNewReportsMoveDeadlines: reports under an
// instance's id that its key did not sign get their rejections and
// nothing else (no ACK, which would tell the sender the instance's
// account, usage and policy; no times, no events); copies of accepted
// reports are acknowledged again but move no deadline; a new report does.
func TestUsingPolicyOnlyNewReportsMoveDeadlines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		d := newDevice(t, "POL1")
		f.trust(d, f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{}))
		t0 := f.clock.Now()
		f.clock.Advance(time.Hour)
		r1 := d.report(t, "r1", f.clock.Now(), measure("network-advantage", 3, t0, f.clock.Now()))
		first := f.openAck(must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(r1))))
		before := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.Domain, smartlic.DefaultVAName, d.id))
		events := func() int {
			evs, _, err := f.mgr.ListEvents(f.ctx, sa.Domain, smartlic.EventFilter{}, smartlic.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(evs)
		}
		logged := events()
		unchanged := func(what string) {
			t.Helper()
			after := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.Domain, smartlic.DefaultVAName, d.id))
			if !after.LastContactAt.Equal(before.LastContactAt) || !timesEqual(after.LastAckAt, before.LastAckAt) ||
				!timesEqual(after.LastReportAt, before.LastReportAt) || !timesEqual(after.UsageChangedAt, before.UsageChangedAt) {
				t.Errorf("%s moved the instance's times: %+v, were %+v", what, after, before)
			}
			if n := events(); n != logged {
				t.Errorf("%s logged %d events", what, n-logged)
			}
		}

		f.clock.Advance(24 * time.Hour)
		impostor := newDevice(t, "POL1")
		impostor.id = d.id
		forged := impostor.report(t, "r2", f.clock.Now(), measure("network-advantage", 9, t0, f.clock.Now()))
		junk := d.report(t, "r3", f.clock.Now())
		junk.Payload, junk.Sig = []byte(`{}`), make([]byte, ed25519.SignatureSize)
		file := must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(forged, junk)))
		if len(file.Acks) != 0 || file.Summary.Rejected != 2 || file.Summary.Instances != 0 {
			t.Fatalf("reports the instance did not sign were answered with %d ACKs: %+v", len(file.Acks), file.Summary)
		}
		for _, r := range file.Rejections {
			if r.Code != smartlic.ESignature {
				t.Errorf("rejection %+v, want %s", r, smartlic.ESignature)
			}
		}
		unchanged("reports the instance did not sign")

		for range 2 {
			file := must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(r1)))
			ack := f.openAck(file)
			if file.Summary.Duplicates != 1 || len(ack.Accepted) != 1 || !timesEqual(ack.NextReportDue, first.NextReportDue) {
				t.Fatalf("a copy's ACK: %+v, next report due %v (was %v)", file.Summary, ack.NextReportDue, first.NextReportDue)
			}
		}
		unchanged("copies of an accepted report")

		r4 := d.report(t, "r4", f.clock.Now(), measure("network-advantage", 3, t0, f.clock.Now()))
		ack := f.openAck(must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(r4))))
		if ack.NextReportDue == nil || !ack.NextReportDue.After(*first.NextReportDue) {
			t.Errorf("a new report left the next report due at %v (was %v)", ack.NextReportDue, first.NextReportDue)
		}
		after := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.Domain, smartlic.DefaultVAName, d.id))
		if after.LastReportAt == nil || !after.LastReportAt.Equal(f.clock.Now()) {
			t.Errorf("last report at %v, want now", after.LastReportAt)
		}
	})
}

func timesEqual(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// TestUsingPolicyOffline: a trust file for listed UDIs, a usage file that
// binds the key and reports, uploaded three times, counted once; another
// account's file refused.
func TestUsingPolicyOffline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		f.account("other.example")
		d := newDevice(t, "OFF1")
		_, err := f.mgr.GenerateTrustFile(f.ctx, sa.Domain, smartlic.DefaultVAName, []smartlic.UDI{d.udi, d.udi})
		wantCode(t, err, smartlic.EInvalid)
		tf := must[smartlic.TrustFile](t)(f.mgr.GenerateTrustFile(f.ctx, sa.Domain, smartlic.DefaultVAName, []smartlic.UDI{d.udi, {PID: "C9300-24T", SN: "OFF2"}}))
		if len(tf.TrustCodes) != 2 || tf.Type != smartlic.FileTypeTrust {
			t.Fatalf("trust file: %+v", tf)
		}
		var tc smartlic.TrustCode
		if err := sign.Open(tf.TrustCodes[0], smartlic.TypeTrustCode, f.keys(), &tc); err != nil || tc.Bound() || tc.UDI != d.udi {
			t.Fatalf("offline trust code %+v: %v", tc, err)
		}
		d.id = tc.InstanceID

		t0 := f.clock.Now()
		f.clock.Advance(2 * time.Hour)
		uf := usageFile(d.report(t, "o1", f.clock.Now(), measure("network-essentials", 4, t0, f.clock.Now())))
		// Without the trust request that binds its key, the report is refused.
		raw, _ := json.Marshal(uf)
		file := must[smartlic.AckFile](t)(f.mgr.UploadUsageFile(f.ctx, sa.Domain, "usage.json", raw))
		if file.Summary.Rejected != 1 || file.Rejections[0].Code != smartlic.ENotTrusted {
			t.Fatalf("unbound report: %+v", file)
		}
		uf.TrustRequests = []smartlic.Envelope{d.trustEnv(t, "", &tf.TrustCodes[0], f.clock.Now())}
		raw, _ = json.Marshal(uf)
		_, err = f.mgr.UploadUsageFile(f.ctx, "other.example", "usage.json", raw)
		wantCode(t, err, smartlic.EWrongAccount)
		for i := range 3 {
			file := must[smartlic.AckFile](t)(f.mgr.UploadUsageFile(f.ctx, sa.Domain, "usage.json", raw))
			ack := f.openAck(file)
			if file.Summary.Accepted != 1 || len(ack.Accepted) != 1 || ack.TrustCode == nil || (i > 0) != (file.Summary.Duplicates == 1) {
				t.Fatalf("upload %d: %+v, ack %+v", i+1, file.Summary, ack)
			}
			if n := f.inUse(sa.Domain, "network-essentials"); n != 4 {
				t.Fatalf("upload %d: in use %d, want 4", i+1, n)
			}
		}
		ups, _ := pageOf(f.mgr.ListUsageUploads(f.ctx, sa.Domain, smartlic.Page{}))
		if len(ups) != 4 {
			t.Fatalf("uploads %d, want 4", len(ups))
		}
		again := must[smartlic.AckFile](t)(f.mgr.GetUsageUploadAck(f.ctx, sa.Domain, ups[1].ID))
		if again.UploadID != ups[1].ID || len(again.Acks) != 1 {
			t.Errorf("stored ACK file: %+v", again)
		}
		_, err = f.mgr.GetUsageUploadAck(f.ctx, "other.example", ups[1].ID)
		wantCode(t, err, smartlic.ENotFound)
		// Another key presenting the same (now bound) trust code is refused.
		thief := newDevice(t, "OFF1")
		_, err = f.mgr.RequestTrust(context.Background(), thief.trustEnv(t, "", &tf.TrustCodes[0], f.clock.Now()))
		wantCode(t, err, smartlic.ENotTrusted)
	})
}

// TestUsingPolicyMigration: a registered instance moves to policy and its
// usage stays counted once throughout.
func TestUsingPolicyMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		d := newDevice(t, "MIG1")
		if _, err := f.register(d, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := f.authorize(d, use("network-advantage", 2)); err != nil {
			t.Fatal(err)
		}
		env := must[smartlic.Envelope](t)(f.mgr.MoveToPolicy(context.Background(), d.request(t, smartlic.TypePolicyModeRequest, f.clock.Now(), nil)))
		var tc smartlic.TrustCode
		if err := sign.Open(env, smartlic.TypeTrustCode, f.keys(), &tc); err != nil || !ed25519.PublicKey(tc.PublicKey).Equal(d.pub) {
			t.Fatalf("trust code %+v: %v", tc, err)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != 2 {
			t.Fatalf("in use %d after the move, want 2", n)
		}
		// The licenses it holds are in use under the policy from the move:
		// its first report is due from then (90 days for a subscription).
		moved := f.clock.Now()
		inst := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.Domain, smartlic.DefaultVAName, d.id))
		if r := inst.Reporting; r == nil || r.FirstUseAt == nil || !r.FirstUseAt.Equal(moved) || r.Due == nil || !r.Due.Equal(moved.Add(90*smartlic.Day)) {
			t.Fatalf("reporting after the move: %+v", inst.Reporting)
		}
		t0 := f.clock.Now()
		f.clock.Advance(time.Hour)
		must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(d.report(t, "m1", f.clock.Now(), measure("network-advantage", 2, t0, f.clock.Now())))))
		if n := f.inUse(sa.Domain, "network-advantage"); n != 2 {
			t.Fatalf("in use %d after the first report, want 2", n)
		}
		_, err := f.mgr.MoveToPolicy(context.Background(), d.request(t, smartlic.TypePolicyModeRequest, f.clock.Now(), nil))
		wantCode(t, err, smartlic.EConflict)
	})
}

func pageOf[T any](v T, next string, err error) (T, string) {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v, next
}

var _ smartlic.UsageService = (*manager.Manager)(nil)
