package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// An authorization request with a usage line the manager refuses outright
// (a license the product may not consume, one nobody sells, a malformed
// tag) answers 400 invalid on usage.tag with the line's tag in the error
// body's tags, for devices to act on without reading the message; a
// refusal that is not about one line (a count out of range) has no tags.
func TestAuthorizeRefusalNamesTags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newMatrixOn(t, open)
		ok[smartlic.LicenseType](t)(m.e.mgr.CreateLicenseType(m.op, smartlic.LicenseType{Tag: "threat-defense", Name: "TD", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
		tok := ok[smartlic.Token](t)(m.e.mgr.CreateToken(m.op, "acme.example", "Engineering", smartlic.TokenInput{Description: "tags", ExpiresInDays: 1}))
		d := newDevice(t, "C9300-24T", "TAGS1")
		now := m.e.clock.Now()
		a := m.e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: d.registerRequest(t, tok.Secret, now)})
		wantStatus(t, a, http.StatusOK)
		var env smartlic.Envelope
		a.decode(t, &env)
		var cert smartlic.IDCert
		if err := smartlic.DecodePayload(env, &cert); err != nil {
			t.Fatal(err)
		}
		authorize := func(nonce string, usage ...smartlic.Usage) answer {
			t.Helper()
			req, err := sign.Seal(smartlic.TypeAuthRequest, cert.InstanceID, d.priv, smartlic.DeviceRequest{
				InstanceID: cert.InstanceID, UDI: d.udi, SentAt: now, Nonce: nonce, Usage: usage})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(req)
			return m.e.do(request{method: "POST", path: "/device/v1/authorize", auth: "-", body: string(b)})
		}
		for i, refused := range []string{"threat-defense", "nonesuch", "Bad Tag"} {
			a := authorize("n"+refused, smartlic.Usage{LicenseTag: "network-advantage", Count: 1}, smartlic.Usage{LicenseTag: refused, Count: 1})
			if e := wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "usage.tag"); !slices.Equal(e.Tags, []string{refused}) {
				t.Errorf("refusal %d (%s): tags %q in %s", i, refused, e.Tags, a.body)
			}
		}
		a = authorize("count", smartlic.Usage{LicenseTag: "network-advantage", Count: -1})
		if e := wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "usage.count"); e.Tags != nil {
			t.Errorf("a count out of range names tags %q", e.Tags)
		}
		wantStatus(t, authorize("fine", smartlic.Usage{LicenseTag: "network-advantage", Count: 1}), http.StatusOK)
	})
}
