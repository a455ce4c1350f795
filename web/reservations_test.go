package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A user of the account pastes a device's request code on Reserve
// licenses, chooses a quantity from Building A's pool and gets the
// authorization code (which the manager signed for that device); a
// mistyped code and too many licenses are refused beside their inputs;
// the device's return code gives the licenses back.
func TestReserveLicensesPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		udi := smartlic.UDI{PID: "C9300-24T", SN: "FOC0SLR01"}
		request := rescode.Request{UDI: udi, Key: key.Public().(ed25519.PublicKey)}.Encode()

		b := newBrowser(t, p)
		b.signIn("user@acme.example", testPassword)
		b.press("Reservations")
		b.selectOption("Virtual Account", "— Building A")
		b.press("Show its licenses")

		typo := []byte(request)
		typo[20] = map[bool]byte{true: 'A', false: 'B'}[typo[20] != 'A']
		b.fill("Request code", strings.ToLower(string(typo)))
		b.fill("Network Advantage", "2")
		b.press("Reserve licenses")
		if got := b.fieldError("Request code"); !strings.Contains(got, "mistyped") {
			t.Fatalf("error beside a mistyped request code = %q", got)
		}
		if got := b.fieldValue("Network Advantage"); got != "2" {
			t.Fatalf("quantity after the error = %q, want it kept", got)
		}
		b.fill("Request code", request)
		b.fill("Network Advantage", "5")
		b.press("Reserve licenses")
		if got := b.text("#licenses-error"); !strings.Contains(got, "4") || !strings.Contains(got, "cannot reserve 5") {
			t.Fatalf("error for more than available = %q", got)
		}
		b.fill("Network Advantage", "2")
		b.press("Reserve licenses")
		if got := b.text(".flash"); !strings.Contains(got, "Licenses reserved for C9300-24T:FOC0SLR01") {
			t.Fatalf("flash after reserving = %q", got)
		}
		code := strings.TrimSpace(b.value("authorization-code"))
		keys := must[smartlic.PublicKeySet](t)(p.mgr.PublicKeys(context.Background()))
		auth, err := rescode.OpenAuthorization("code", code, sign.NewKeySet(keys.Keys))
		if err != nil || auth.UDI != udi || len(auth.Licenses) != 1 || auth.Licenses[0] != (rescode.License{Tag: "network-advantage", Count: 2}) {
			t.Fatalf("authorization code on the page = %q: %+v, %v", code, auth, err)
		}
		if !b.has(`button[data-copy="authorization-code"]`) {
			t.Fatal("no Copy button beside the authorization code")
		}
		b.screenshot("reservation")

		pool := must[[]smartlic.Pool](t)(p.mgr.ListPools(p.op, sa.Domain, "Building A", false))
		for _, pl := range pool {
			if pl.LicenseTag == "network-advantage" && (pl.Reserved != 2 || pl.Available != 2) {
				t.Fatalf("Building A's network-advantage after reserving: %+v", pl)
			}
		}

		ret, err := rescode.SignProof(rescode.TypeReturn, rescode.Proof{Fingerprint: auth.Fingerprint, Sequence: 1}, key)
		if err != nil {
			t.Fatal(err)
		}
		b.press("Reservations")
		if row := rowWith(b, "C9300-24T:FOC0SLR01"); len(row) < 4 || row[3] != "Authorized" {
			t.Fatalf("reservation row = %q", row)
		}
		b.fill("Return or confirmation code", ret[:len(ret)-1])
		b.press("Enter code")
		if got := b.fieldError("Return or confirmation code"); got == "" {
			t.Fatal("a truncated return code was taken")
		}
		b.fill("Return or confirmation code", ret)
		b.press("Enter code")
		if got := b.text(".flash"); !strings.Contains(got, "returned") {
			t.Fatalf("flash after the return code = %q", got)
		}
		b.press("Reservations")
		if row := rowWith(b, "C9300-24T:FOC0SLR01"); len(row) < 4 || row[3] != "Returned" {
			t.Fatalf("reservation row after return = %q", row)
		}
	})
}
