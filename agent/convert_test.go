package agent_test

import (
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/sign"
)

// TestConvertClassicAgainstRealServer runs device-led conversion through
// the real HTTP server: the vendor maps a classic SKU and deposits a PAK
// with units fulfilled on one switch; the switch reports its classic
// license and receives smart licenses in its Virtual Account, once; a
// tampered request is refused and changes nothing.
func TestConvertClassicAgainstRealServer(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()
	if _, err := m.mgr.CreateClassicSKU(m.op, smartlic.ClassicSKUInput{SKU: "L-C3850-24-S-E", License: "network-advantage", Ratio: 2}); err != nil {
		t.Fatal(err)
	}
	a := m.agent(t, "FOC0000CONV")
	if err := a.Register(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.mgr.DepositPAK(m.op, "acme.example", smartlic.PAKInput{Number: "3300J7A1B2C", OrderNumber: "SO-7",
		Lines: []smartlic.PAKLineInput{{SKU: "L-C3850-24-S-E", Quantity: 5, Fulfilled: []smartlic.FulfillmentInput{{UDI: a.UDI(), Count: 2}}}}}); err != nil {
		t.Fatal(err)
	}
	purchased := func() int64 {
		t.Helper()
		pools, err := m.mgr.ListPools(m.op, "acme.example", smartlic.DefaultVAName, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pools {
			if p.LicenseTag == "network-advantage" {
				return p.Purchased
			}
		}
		return 0
	}
	before := purchased()

	// A tampered request: signed, then its payload changed to ask for more.
	snap := a.State()
	env, err := sign.Seal(smartlic.TypeConvertRequest, snap.Registration.IDCert.InstanceID, snap.Registration.PrivateKey, smartlic.ConvertRequest{
		InstanceID: snap.Registration.IDCert.InstanceID, UDI: a.UDI(), SentAt: m.clock.Now(),
		Classic: []smartlic.ClassicLicense{{SKU: "L-C3850-24-S-E", Count: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	env.Payload = []byte(string(env.Payload[:len(env.Payload)-3]) + "2}]}")
	_, err = client.New(m.url, "").ConvertClassic(ctx, env)
	if code := smartlic.ErrorCode(err); code != smartlic.ESignature {
		t.Fatalf("tampered request: %v (code %q), want %s", err, code, smartlic.ESignature)
	}
	if got := purchased(); got != before {
		t.Fatalf("a refused request changed the pool from %d to %d", before, got)
	}

	ans, err := a.ConvertClassic(ctx, []smartlic.ClassicLicense{{SKU: "L-C3850-24-S-E", Count: 2}, {SKU: "L-UNKNOWN", Count: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Lines) != 2 || ans.Lines[0].Status != smartlic.Converted || ans.Lines[0].Converted != 2 || ans.Lines[0].Quantity != 4 ||
		ans.Lines[1].Status != smartlic.NotMappable {
		t.Fatalf("conversion = %+v", ans.Lines)
	}
	if got := purchased(); got != before+4 {
		t.Fatalf("purchased = %d, want %d", got, before+4)
	}
	ans, err = a.ConvertClassic(ctx, []smartlic.ClassicLicense{{SKU: "L-C3850-24-S-E", PAK: "3300J7A1B2C", Count: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if l := ans.Lines[0]; l.Status != smartlic.AlreadyConverted || l.Converted != 0 {
		t.Fatalf("second conversion = %+v", l)
	}
	if got := purchased(); got != before+4 {
		t.Fatalf("purchased after the second report = %d, want %d", got, before+4)
	}
	if st := a.Status(); st.LastAttempt == nil || st.LastAttempt.Operation != "convert_classic" {
		t.Fatalf("last attempt = %+v", st.LastAttempt)
	}

	// An unregistered instance cannot convert.
	b := m.agent(t, "FOC0000NONE")
	if _, err := b.ConvertClassic(ctx, []smartlic.ClassicLicense{{SKU: "L-C3850-24-S-E", Count: 1}}); smartlic.ErrorCode(err) != smartlic.ENotRegistered {
		t.Fatalf("unregistered: %v", err)
	}
}
