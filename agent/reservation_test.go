package agent_test

import (
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
)

// vendor plays the manager's side of reservation codes offline.
type vendor struct {
	key  smartlic.SigningKey
	keys sign.KeySet
}

func newVendor(t *testing.T) vendor {
	t.Helper()
	k, err := sign.NewKey(epoch)
	if err != nil {
		t.Fatal(err)
	}
	return vendor{key: k, keys: sign.NewKeySet([]smartlic.SigningKey{k})}
}

func (v vendor) authorize(t *testing.T, requestCode string, seq uint64, lic ...rescode.License) string {
	t.Helper()
	req, err := rescode.DecodeRequest("request_code", requestCode)
	if err != nil {
		t.Fatal(err)
	}
	code, err := rescode.Authorization{KeyID: v.key.ID, Fingerprint: req.Fingerprint(), Sequence: seq, IssuedAt: epoch, UDI: req.UDI, Licenses: lic}.
		Sign(ed25519.PrivateKey(v.key.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func offlineAgent(t *testing.T, store agent.StateStore, udi smartlic.UDI, keys sign.KeySet) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Options{Server: "http://127.0.0.1:1", Clock: smartlic.NewFakeClock(epoch), Store: store, UDI: udi})
	if err != nil {
		t.Fatal(err)
	}
	if keys != nil {
		if err := a.EnableReservation(t.Context(), keys); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// The device's side of SLR: request, install exactly the authorized
// licenses, refuse codes for another device, forged, altered, stale or
// older codes, and return with a code the request's key signed.
func TestReservationOnDevice(t *testing.T) {
	t.Parallel()
	v := newVendor(t)
	udi := smartlic.UDI{PID: "C9300-24T", SN: "FOC0001"}
	dir := filepath.Join(t.TempDir(), "sw1")
	a := offlineAgent(t, agent.FileState(dir), udi, nil)

	if _, err := a.RequestReservation(); smartlic.ErrorCode(err) != smartlic.EConflict {
		t.Fatalf("request before enable: %v", err)
	}
	if err := a.EnableReservation(t.Context(), v.keys); err != nil {
		t.Fatal(err)
	}
	req, err := a.RequestReservation()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := a.RequestReservation(); again != req {
		t.Fatalf("a second request replaced the outstanding one: %s vs %s", again, req)
	}
	decoded, err := rescode.DecodeRequest("c", req)
	if err != nil || decoded.UDI != udi {
		t.Fatalf("request code carries %v, %v", decoded.UDI, err)
	}

	// Refusals before anything is installed.
	other := smartlic.UDI{PID: "C9300-24T", SN: "FOC0002"}
	b := offlineAgent(t, agent.MemoryState(), other, v.keys)
	otherReq, _ := b.RequestReservation()
	if _, err := a.InstallReservation(v.authorize(t, otherReq, 1, rescode.License{Tag: "dna-advantage", Count: 1})); smartlic.ErrorCode(err) != smartlic.ECodeOtherDevice {
		t.Fatalf("code for another UDI: %v", err)
	}
	forger := newVendor(t)
	wantCode(t, func() error { _, err := a.InstallReservation(forger.authorize(t, req, 1)); return err }(), smartlic.ESignature)
	good := v.authorize(t, req, 1, rescode.License{Tag: "dna-advantage", Count: 2})
	raw, _ := rescode.Decode("c", rescode.KindAuthorization, good)
	raw[len(raw)-70] ^= 1 // a license count, inside the signature's cover
	wantCode(t, func() error {
		_, err := a.InstallReservation(rescode.Encode(rescode.KindAuthorization, raw))
		return err
	}(), smartlic.ESignature)
	typo := []byte(good)
	typo[10] = map[bool]byte{true: 'A', false: 'B'}[typo[10] != 'A']
	wantCode(t, func() error { _, err := a.InstallReservation(string(typo)); return err }(), smartlic.ECodeInvalid)
	if a.State().Reservation.Installed() {
		t.Fatal("a refused code was installed")
	}

	// Install, use, update, refuse the older code again.
	a.SetUsage("dna-advantage", 2)
	confirm, err := a.InstallReservation(good)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(confirm, "RC1-") {
		t.Fatalf("confirmation code %q", confirm)
	}
	st := a.Status()
	if st.Mode != agent.ModeReserved || st.Licenses[0].Status != agent.LicenseReserved || st.Evaluation.InUse {
		t.Fatalf("status after install: %+v", st)
	}
	a.SetUsage("dna-advantage", 3)
	if got := a.Status().Licenses[0].Status; got != agent.LicenseNotReserved {
		t.Fatalf("3 used of 2 reserved: %s", got)
	}
	wantCode(t, func() error { _, err := a.InstallReservation(good); return err }(), smartlic.ECodeStale)
	newer := v.authorize(t, req, 2, rescode.License{Tag: "dna-advantage", Count: 3})
	if _, err := a.InstallReservation(newer); err != nil {
		t.Fatal(err)
	}
	wantCode(t, func() error { _, err := a.InstallReservation(good); return err }(), smartlic.ECodeStale)
	if got := a.Status().Licenses[0].Status; got != agent.LicenseReserved {
		t.Fatalf("3 used of 3 reserved: %s", got)
	}
	if _, err := a.RequestReservation(); smartlic.ErrorCode(err) != smartlic.EConflict {
		t.Fatalf("request while installed: %v", err)
	}

	// The state survives a reload, and an altered one is refused.
	if _, err := agent.New(agent.Options{Server: "http://127.0.0.1:1", Store: agent.FileState(dir)}); err != nil {
		t.Fatalf("reload: %v", err)
	}

	// Return: a code signed by the request key, proving sequence 2; the
	// request's codes are refused afterwards.
	ret, err := a.ReturnReservation()
	if err != nil {
		t.Fatal(err)
	}
	pr, body, err := rescode.ReadProof("code", rescode.TypeReturn, ret)
	if err != nil || pr.Sequence != 2 || pr.Fingerprint != decoded.Fingerprint() {
		t.Fatalf("return code reads %+v, %v", pr, err)
	}
	if err := rescode.VerifyProof("code", rescode.TypeReturn, body, decoded.Key); err != nil {
		t.Fatalf("return code does not verify with the request key: %v", err)
	}
	if err := rescode.VerifyProof("code", rescode.TypeConfirmation, body, decoded.Key); err == nil {
		t.Fatal("a return code verified as a confirmation")
	}
	if a.Status().Mode == agent.ModeReserved {
		t.Fatal("still reserved after return")
	}
	wantCode(t, func() error { _, err := a.InstallReservation(newer); return err }(), smartlic.ECodeStale)
	wantCode(t, func() error { _, err := a.ReturnReservation(); return err }(), smartlic.EReservationClosed)
}

// A state file whose installed reservation was edited (more licenses) is
// refused when the agent loads it.
func TestReservationStateTampered(t *testing.T) {
	t.Parallel()
	v := newVendor(t)
	dir := filepath.Join(t.TempDir(), "sw1")
	a := offlineAgent(t, agent.FileState(dir), smartlic.UDI{PID: "C9300-24T", SN: "FOC0003"}, v.keys)
	req, _ := a.RequestReservation()
	if _, err := a.InstallReservation(v.authorize(t, req, 1, rescode.License{Tag: "dna-advantage", Count: 1})); err != nil {
		t.Fatal(err)
	}
	// Another device's valid code pasted into this state.
	b := offlineAgent(t, agent.MemoryState(), smartlic.UDI{PID: "C9300-24T", SN: "FOC0004"}, v.keys)
	breq, _ := b.RequestReservation()
	st := a.State()
	st.Reservation.AuthorizationCode = v.authorize(t, breq, 1, rescode.License{Tag: "dna-advantage", Count: 99})
	js, _ := json.Marshal(st)
	var back agent.State
	_ = json.Unmarshal(js, &back)
	if err := agent.FileState(dir).Save(back); err != nil {
		t.Fatal(err)
	}
	_, err := agent.New(agent.Options{Server: "http://127.0.0.1:1", Store: agent.FileState(dir), Clock: smartlic.NewFakeClock(epoch.Add(time.Hour))})
	wantCode(t, err, smartlic.ESignature)
}
