package agent_test

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

func license(t *testing.T, st agent.Status, tag string) agent.License {
	t.Helper()
	for _, l := range st.Licenses {
		if l.Tag == tag {
			return l
		}
	}
	t.Fatalf("no license %q in %+v", tag, st.Licenses)
	return agent.License{}
}

// TestEvaluationPeriod: 90 days from the first use, counted down in whole
// days rounded up, then expired.
func TestEvaluationPeriod(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	a := newAgent(t, p, agent.MemoryState())

	st := a.Status()
	if st.Mode != agent.ModeEvaluation || st.Evaluation.InUse || st.Evaluation.DaysRemaining != 90 || st.Evaluation.StartedAt != nil {
		t.Fatalf("fresh instance: %+v, want evaluation not in use with 90 days", st.Evaluation)
	}
	clock.Advance(200 * smartlic.Day) // time without use does not count
	if err := a.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	for _, c := range []struct {
		after   time.Duration
		mode    agent.Mode
		days    int
		license agent.LicenseState
	}{
		{0, agent.ModeEvaluation, 90, agent.LicenseEvaluation},
		{time.Second, agent.ModeEvaluation, 90, agent.LicenseEvaluation},
		{10 * smartlic.Day, agent.ModeEvaluation, 80, agent.LicenseEvaluation},
		{89*smartlic.Day + 23*time.Hour, agent.ModeEvaluation, 1, agent.LicenseEvaluation},
		{90*smartlic.Day - time.Second, agent.ModeEvaluation, 1, agent.LicenseEvaluation},
		{90 * smartlic.Day, agent.ModeEvaluationExpired, 0, agent.LicenseEvaluationExpired},
		{400 * smartlic.Day, agent.ModeEvaluationExpired, 0, agent.LicenseEvaluationExpired},
	} {
		clock.Set(start.Add(c.after))
		st := a.Status()
		if st.Mode != c.mode || st.Evaluation.DaysRemaining != c.days || license(t, st, "network-advantage").Status != c.license {
			t.Errorf("after %v: mode %q, %d days, license %q; want %q, %d days, %q",
				c.after, st.Mode, st.Evaluation.DaysRemaining, license(t, st, "network-advantage").Status, c.mode, c.days, c.license)
		}
		if st.Evaluation.Expired != (c.mode == agent.ModeEvaluationExpired) {
			t.Errorf("after %v: expired = %v", c.after, st.Evaluation.Expired)
		}
		if want := start.Add(smartlic.EvaluationPeriod); st.Evaluation.ExpiresAt == nil || !st.Evaluation.ExpiresAt.Equal(want) {
			t.Errorf("after %v: evaluation expires at %v, want %v", c.after, st.Evaluation.ExpiresAt, want)
		}
	}
}

// TestEvaluationPausedWhileRegistered: registration stops the evaluation
// clock; deregistration resumes it where it stopped instead of granting a
// fresh period.
func TestEvaluationPausedWhileRegistered(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	a := newAgent(t, p, agent.MemoryState())
	ctx := t.Context()
	if err := a.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * smartlic.Day)
	if err := a.Register(ctx, "good-token", false); err != nil {
		t.Fatal(err)
	}
	clock.Advance(100 * smartlic.Day)
	st := a.Status()
	if st.Mode != agent.ModeRegistered || st.Evaluation.InUse || st.Evaluation.DaysRemaining != 60 || st.Evaluation.ExpiresAt != nil {
		t.Fatalf("registered: mode %q, evaluation %+v; want registered with 60 days kept", st.Mode, st.Evaluation)
	}
	if err := a.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * smartlic.Day)
	st = a.Status()
	if st.Mode != agent.ModeEvaluation || !st.Evaluation.InUse || st.Evaluation.DaysRemaining != 50 {
		t.Fatalf("deregistered: mode %q, evaluation %+v; want evaluation in use with 50 days", st.Mode, st.Evaluation)
	}
	if st.Registration != nil || st.Authorization != nil {
		t.Errorf("deregistered instance still shows a registration: %+v %+v", st.Registration, st.Authorization)
	}
	clock.Advance(50 * smartlic.Day)
	if st := a.Status(); st.Mode != agent.ModeEvaluationExpired {
		t.Errorf("after 90 unregistered days in all: mode %q, want evaluation_expired", st.Mode)
	}
}

// TestIDCertRenewal: the ID certificate is due for renewal after 180 days,
// expires after 365, and Renew replaces it once due.
func TestIDCertRenewal(t *testing.T) {
	p, a := registered(t)
	clock := p.clock
	registeredAt := clock.Now()
	st := a.Status()
	if r := st.Registration; r == nil || r.InstanceID != "inst-1" || r.SmartAccount != "acme.example" || r.VirtualAccount != "Building A" ||
		!r.IDCertRenewAfter.Equal(registeredAt.Add(180*smartlic.Day)) || !r.IDCertExpiresAt.Equal(registeredAt.Add(365*smartlic.Day)) {
		t.Fatalf("registration %+v", st.Registration)
	}

	clock.Set(registeredAt.Add(180*smartlic.Day - time.Second))
	if a.Status().Registration.RenewalDue {
		t.Error("ID certificate renewal due before 180 days")
	}
	clock.Set(registeredAt.Add(180 * smartlic.Day))
	st = a.Status()
	if !st.Registration.RenewalDue || st.Registration.Expired {
		t.Errorf("at 180 days: %+v, want renewal due, not expired", st.Registration)
	}
	clock.Set(registeredAt.Add(365 * smartlic.Day))
	if !a.Status().Registration.Expired {
		t.Error("ID certificate not expired at 365 days")
	}

	clock.Set(registeredAt.Add(200 * smartlic.Day))
	done, err := a.Renew(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// 200 days without contact: the authorization is due (and expired) too.
	if !done.IDCert || !done.Authorization || p.callsTo("renew") != 1 {
		t.Fatalf("Renew did %+v with %d renew calls, want both and 1", done, p.callsTo("renew"))
	}
	st = a.Status()
	if r := st.Registration; r.RenewalDue || r.InstanceID != "inst-1" || !r.IDCertRenewAfter.Equal(clock.Now().Add(180*smartlic.Day)) ||
		!r.RegisteredAt.Equal(registeredAt) || r.LastRenewal == nil || !r.LastRenewal.Succeeded() {
		t.Errorf("after renewal: %+v", r)
	}
	if st.Authorization.Status != smartlic.AuthValid {
		t.Errorf("authorization after renewal: %q", st.Authorization.Status)
	}
}

// TestAuthorizationTimers: authorization renewal is due after 30 days and
// the authorization expires after 90 days without contact. Renew renews
// only what is due.
func TestAuthorizationTimers(t *testing.T) {
	p, a := registered(t)
	clock := p.clock
	at := clock.Now()
	st := a.Status()
	if st.Authorization.Status != smartlic.AuthValid || st.Authorization.RenewalDue || license(t, st, "network-advantage").Status != agent.LicenseAuthorized {
		t.Fatalf("just authorized: %+v %+v", st.Authorization, st.Licenses)
	}

	clock.Set(at.Add(30*smartlic.Day - time.Second))
	if a.Status().Authorization.RenewalDue {
		t.Error("authorization renewal due before 30 days")
	}
	done, err := a.Renew(t.Context())
	if err != nil || done.IDCert || done.Authorization || p.callsTo("authorize") != 1 {
		t.Fatalf("Renew with nothing due did %+v (%v), %d authorize calls", done, err, p.callsTo("authorize"))
	}

	clock.Set(at.Add(30 * smartlic.Day))
	if !a.Status().Authorization.RenewalDue {
		t.Error("authorization renewal not due at 30 days")
	}
	clock.Set(at.Add(90*smartlic.Day - time.Second))
	if st := a.Status(); st.Authorization.Expired || st.Authorization.Status != smartlic.AuthValid {
		t.Errorf("before 90 days: %+v", st.Authorization)
	}
	clock.Set(at.Add(90 * smartlic.Day))
	st = a.Status()
	if !st.Authorization.Expired || st.Authorization.Status != smartlic.AuthExpired || st.Mode != agent.ModeRegistered ||
		license(t, st, "network-advantage").Status != agent.LicenseAuthorizationExpired {
		t.Errorf("at 90 days: mode %q, %+v, %+v; want authorization_expired", st.Mode, st.Authorization, st.Licenses)
	}

	clock.Set(at.Add(91 * smartlic.Day))
	done, err = a.Renew(t.Context())
	if err != nil || done.IDCert || !done.Authorization || p.callsTo("renew") != 0 {
		t.Fatalf("Renew at 91 days did %+v (%v) with %d renew calls; want the authorization only", done, err, p.callsTo("renew"))
	}
	st = a.Status()
	if st.Authorization.Status != smartlic.AuthValid || !st.Authorization.RenewAfter.Equal(clock.Now().Add(30*smartlic.Day)) {
		t.Errorf("after renewal: %+v", st.Authorization)
	}
}

// TestUsageChangeNeedsAuthorization: a new license is pending until the
// next authorization reports it; a released one disappears.
func TestUsageChangeNeedsAuthorization(t *testing.T) {
	p, a := registered(t)
	p.setOutOfCompliance("dna-advantage")
	if err := a.SetUsage("dna-advantage", 1); err != nil {
		t.Fatal(err)
	}
	st := a.Status()
	if !st.Authorization.UsageChanged || !st.Authorization.RenewalDue || license(t, st, "dna-advantage").Status != agent.LicensePending {
		t.Fatalf("after a usage change: %+v %+v", st.Authorization, st.Licenses)
	}
	if license(t, st, "network-advantage").Status != agent.LicenseAuthorized {
		t.Errorf("an unchanged license lost its authorization: %+v", st.Licenses)
	}
	if done, err := a.Renew(t.Context()); err != nil || !done.Authorization {
		t.Fatalf("Renew after a usage change: %+v, %v", done, err)
	}
	st = a.Status()
	if st.Authorization.Status != smartlic.AuthOOC || license(t, st, "dna-advantage").Status != agent.LicenseOutOfCompliance {
		t.Errorf("out-of-compliance answer: %+v %+v", st.Authorization, st.Licenses)
	}

	if err := a.SetUsage("dna-advantage", 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Authorize(t.Context()); err != nil {
		t.Fatal(err)
	}
	st = a.Status()
	if len(st.Licenses) != 1 || st.Authorization.Status != smartlic.AuthValid || st.Authorization.UsageChanged {
		t.Errorf("after releasing dna-advantage: %+v %+v", st.Authorization, st.Licenses)
	}
}

// TestSetUsageValidation: tags and counts the manager would refuse are
// refused locally.
func TestSetUsageValidation(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	a := newAgent(t, newPeer(t, clock), agent.MemoryState())
	for _, c := range []struct {
		tag   string
		count int64
	}{{"", 1}, {"Bad Tag", 1}, {"network-advantage", -1}, {"network-advantage", 1_000_001}} {
		wantCode(t, a.SetUsage(c.tag, c.count), smartlic.EInvalid)
	}
	if err := a.SetUsage("network-advantage", 0); err != nil {
		t.Errorf("releasing an unused license: %v", err)
	}
	if st := a.Status(); len(st.Licenses) != 0 || st.Evaluation.InUse {
		t.Errorf("refused usage changed the state: %+v", st)
	}
}
