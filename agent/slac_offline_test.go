package agent_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestSLACOfflineAttacks plays an attacker against the offline codes: an
// authorization code altered or signed by another key, a SLAC of one Smart
// Account installed on a device registered in another, a forged return
// code and a return code carrying another device's serial. Each is refused
// with its code and leaves the device and the pool as they were; the real
// codes still work afterwards, and the device keeps its return code.
func TestSLACOfflineAttacks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 2)
		ctx := t.Context()
		if _, err := m.mgr.SetExportControl(m.op, exportSA, true); err != nil {
			t.Fatal(err)
		}
		d := m.device(t, "AIR1", "")
		if err := d.EnableReservation(ctx, nil); err != nil {
			t.Fatal(err)
		}
		code, err := d.RequestSLACCode("hseck9")
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.mgr.IssueSLAC(m.op, exportSA, smartlic.SLACIssueInput{RequestCode: code})
		if err != nil {
			t.Fatal(err)
		}
		env, err := rescode.DecodeSLAC("code", s.AuthorizationCode)
		if err != nil {
			t.Fatal(err)
		}

		// The payload altered (another SLAC id), the check recomputed.
		altered := env
		last := "0" // another last character of the id, whatever it was
		if strings.HasSuffix(s.ID, last) {
			last = "1"
		}
		altered.Payload = bytes.Replace(env.Payload, []byte(s.ID), []byte(s.ID[:len(s.ID)-1]+last), 1)
		if bytes.Equal(altered.Payload, env.Payload) {
			t.Fatal("payload not altered")
		}
		text, err := rescode.EncodeSLAC(altered)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.InstallSLAC(text)
		wantCode(t, err, smartlic.ESignature)
		// Signed by the attacker's key under the manager's key id.
		_, evil, _ := ed25519.GenerateKey(rand.Reader)
		forged, err := sign.Seal(smartlic.TypeSLAC, env.KeyID, evil, map[string]any{"id": "x"})
		if err != nil {
			t.Fatal(err)
		}
		forged.Payload = env.Payload
		forged.Sig = ed25519.Sign(evil, sign.Message(smartlic.TypeSLAC, env.Payload))
		text, err = rescode.EncodeSLAC(forged)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.InstallSLAC(text)
		wantCode(t, err, smartlic.ESignature)
		if st := d.Status(); len(st.SLACs) != 0 || len(st.PendingSLACs) != 1 {
			t.Fatalf("after refused codes: %+v %+v", st.SLACs, st.PendingSLACs)
		}

		// A device of this account that registered in another Smart
		// Account before installing: the SLAC is not for it.
		other := must[smartlic.SmartAccount](t)(m.mgr.CreateSmartAccount(m.op, smartlic.SmartAccount{Name: "Other", Domain: "other.example", Status: smartlic.SAActive}))
		tok := must[smartlic.Token](t)(m.mgr.CreateToken(m.op, other.Domain, smartlic.DefaultVAName, smartlic.TokenInput{Description: "x", ExpiresInDays: 1}))
		moved := m.device(t, "AIR2", "")
		if err := moved.EnableReservation(ctx, nil); err != nil {
			t.Fatal(err)
		}
		movedCode := must[string](t)(moved.RequestSLACCode("hseck9"))
		ms, err := m.mgr.IssueSLAC(m.op, exportSA, smartlic.SLACIssueInput{RequestCode: movedCode})
		if err != nil {
			t.Fatal(err)
		}
		if err := moved.Register(ctx, tok.Secret, false); err != nil {
			t.Fatal(err)
		}
		_, err = moved.InstallSLAC(ms.AuthorizationCode)
		wantCode(t, err, smartlic.EWrongDevice)

		// The real code installs.
		if _, err := d.InstallSLAC(s.AuthorizationCode); err != nil {
			t.Fatal(err)
		}
		if p := m.pool(t, "hseck9"); p.InUse != 2 || p.Available != 0 {
			t.Fatalf("pool with two SLACs: %+v", p)
		}

		// Forged return codes: a guessed secret, another device's serial.
		guess := make([]byte, smartlic.SLACSecretBytes)
		_, _ = rand.Read(guess)
		_, err = m.mgr.ReturnSLAC(m.op, exportSA, rescode.SLACReturn{UDI: d.UDI(), SLACID: s.ID, Secret: guess}.Encode())
		wantCode(t, err, smartlic.ESignature)
		real := d.State().SLACs[0].Secret
		_, err = m.mgr.ReturnSLAC(m.op, exportSA, rescode.SLACReturn{UDI: moved.UDI(), SLACID: s.ID, Secret: real}.Encode())
		wantCode(t, err, smartlic.EWrongDevice)
		// Another account's user cannot return it either.
		_, err = m.mgr.ReturnSLAC(m.op, other.Domain, rescode.SLACReturn{UDI: d.UDI(), SLACID: s.ID, Secret: guess}.Encode())
		wantCode(t, err, smartlic.ENotFound)
		if p := m.pool(t, "hseck9"); p.InUse != 2 {
			t.Fatalf("pool after forged returns: %+v", p)
		}

		ret, err := d.ReturnSLACCode("hseck9")
		if err != nil {
			t.Fatal(err)
		}
		if st := d.Status(); len(st.SLACReturns) != 1 || st.SLACReturns[0].Code != ret || st.SLACReturns[0].SLACID != s.ID {
			t.Fatalf("return codes kept on the device: %+v", st.SLACReturns)
		}
		got, err := m.mgr.ReturnSLAC(m.op, exportSA, ret)
		if err != nil || got.Status != smartlic.SLACReturned || got.Returned != smartlic.SLACOffline {
			t.Fatalf("return: %+v %v", got, err)
		}
		if p := m.pool(t, "hseck9"); p.InUse != 1 || p.Available != 1 {
			t.Fatalf("pool after the return: %+v", p)
		}
		wantCode(t, d.SetUsage("hseck9", 1), smartlic.EExportControl)
	})
}

// must returns the value of a call that must succeed.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// InstallSLACWith's keys: a key id the device already trusts with another
// key is refused (a file cannot swap a trusted key), changing nothing; the
// manager's own keys install the SLAC on a device that already trusts them.
func TestSLACInstallWithKeysConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 1)
		ctx := t.Context()
		if _, err := m.mgr.SetExportControl(m.op, exportSA, true); err != nil {
			t.Fatal(err)
		}
		d := m.device(t, "AIR7", "")
		if err := d.EnableReservation(ctx, nil); err != nil { // pins the manager's keys
			t.Fatal(err)
		}
		code, err := d.RequestSLACCode("hseck9")
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.mgr.IssueSLAC(m.op, exportSA, smartlic.SLACIssueInput{RequestCode: code})
		if err != nil {
			t.Fatal(err)
		}
		ks, err := m.mgr.PublicKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		before := d.State().ManagerKeys
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		_, err = d.InstallSLACWith(s.AuthorizationCode, agent.SLACInstallOptions{Keys: sign.KeySet{ks.Keys[0].ID: pub}})
		wantCode(t, err, smartlic.EInvalid)
		if st := d.State(); len(st.SLACs) != 0 || len(st.PendingSLACs) != 1 || !reflect.DeepEqual(st.ManagerKeys, before) {
			t.Fatalf("after a refused key file: %+v %+v %v", st.SLACs, st.PendingSLACs, st.ManagerKeys)
		}
		_, err = d.InstallSLACWith(s.AuthorizationCode, agent.SLACInstallOptions{Keys: sign.KeySet{}})
		wantCode(t, err, smartlic.EInvalid)
		if _, err := d.InstallSLACWith(s.AuthorizationCode, agent.SLACInstallOptions{Keys: sign.NewKeySet(ks.Keys)}); err != nil {
			t.Fatal(err)
		}
		if st := d.State(); len(st.SLACs) != 1 || !reflect.DeepEqual(st.ManagerKeys, before) {
			t.Fatalf("after the install: %+v %v", st.SLACs, st.ManagerKeys)
		}
	})
}
