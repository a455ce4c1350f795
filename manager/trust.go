package manager

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Trust under Smart Licensing Using Policy (docs/protocols.md): a trust
// code binds an instance's UDI, and once known its public key, to a Smart
// Account. Reports are verified against the bound key only.

// RequestTrust answers a self-signed trust request with a trust code bound
// to the key that signed it. The request carries a registration token
// (one use is consumed, exactly as a registration consumes one) or an
// offline trust code for its UDI (which binds the key the first time).
func (m *Manager) RequestTrust(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	pub, req, err := openTrustRequest(env)
	if err != nil {
		return smartlic.Envelope{}, err
	}
	now := m.clock.Now()
	if err := smartlic.ValidateHostname("hostname", req.Hostname); err != nil {
		return smartlic.Envelope{}, err
	}
	if err := checkNonce(req.Nonce); err != nil {
		return smartlic.Envelope{}, err
	}
	var code smartlic.TrustCode
	switch {
	case req.Token != "" && req.TrustCode != nil:
		return smartlic.Envelope{}, smartlic.Invalid("token", "give a token or a trust code, not both")
	case req.TrustCode != nil:
		tc, err := m.openTrustCode(*req.TrustCode)
		if err != nil {
			return smartlic.Envelope{}, err
		}
		err = m.st.Write(ctx, func(tx smartlic.Tx) error {
			inst, err := lockedInstance(ctx, tx, tc.InstanceID)
			if err != nil {
				return err
			}
			if inst, err = m.bindTrust(ctx, tx, inst, tc, req, pub, now); err != nil {
				return err
			}
			code, err = m.trustCodeOf(ctx, tx, inst, now)
			return err
		})
		if err != nil {
			return smartlic.Envelope{}, err
		}
		return m.seal(smartlic.TypeTrustCode, code)
	case strings.TrimSpace(req.Token) == "":
		return smartlic.Envelope{}, smartlic.Invalid("token", "a registration token (online) or a trust code from a trust file (offline) is required")
	case len(req.Token) > 200:
		return smartlic.Envelope{}, smartlic.Errorf(smartlic.ETokenUnknown, "token", "registration token not recognised")
	}
	if err := checkFresh(req.SentAt, now); err != nil {
		return smartlic.Envelope{}, err
	}
	var answer json.RawMessage
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		// Single-use like a registration: a retried copy gets the same
		// trust code and spends no second token use.
		answer, err = once(ctx, tx, env, "", req.SentAt, func() (any, error) { return m.trustWithToken(ctx, tx, req, now) })
		return err
	})
	if err != nil {
		return smartlic.Envelope{}, err
	}
	return m.seal(smartlic.TypeTrustCode, answer)
}

// openTrustRequest verifies a trust request against the key in its kid,
// then reads it.
func openTrustRequest(env smartlic.Envelope) (ed25519.PublicKey, smartlic.TrustRequest, error) {
	var req smartlic.TrustRequest
	pub, err := base64.RawURLEncoding.DecodeString(env.KeyID)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, req, smartlic.Errorf(smartlic.ESignature, "kid", "a trust request's kid must be the instance's Ed25519 public key in unpadded base64url")
	}
	if err := sign.Verify(env, smartlic.TypeTrustRequest, pub); err != nil {
		return nil, req, err
	}
	if err := smartlic.DecodePayload(env, &req); err != nil {
		return nil, req, err
	}
	if !ed25519.PublicKey(pub).Equal(ed25519.PublicKey(req.PublicKey)) {
		return nil, req, smartlic.Errorf(smartlic.ESignature, "public_key", "public_key does not match the key that signed the request")
	}
	if err := req.UDI.Validate("udi"); err != nil {
		return nil, req, err
	}
	return pub, req, nil
}

// openTrustCode verifies a trust code the manager issued.
func (m *Manager) openTrustCode(env smartlic.Envelope) (smartlic.TrustCode, error) {
	var tc smartlic.TrustCode
	if err := sign.Open(env, smartlic.TypeTrustCode, m.currentKeys(), &tc); err != nil {
		return tc, err
	}
	if tc.InstanceID == "" || tc.Serial == "" {
		return tc, smartlic.Errorf(smartlic.ESignature, "trust_code", "the trust code names no instance")
	}
	return tc, nil
}

// lockedInstance locks and reads an instance inside a write transaction.
func lockedInstance(ctx context.Context, tx smartlic.Tx, id string) (smartlic.Instance, error) {
	err := tx.LockInstance(ctx, id)
	var inst smartlic.Instance
	if err == nil {
		inst, err = tx.GetInstance(ctx, id)
	}
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return inst, smartlic.Errorf(smartlic.ENotTrusted, "trust_code", "the trust code's instance no longer exists; generate a new trust file")
	}
	return inst, err
}

// bindTrust binds the key of a verified trust request to the instance of
// a verified offline trust code: the first request that presents the
// trust code pins its key; the same key again is a no-op; another key is
// refused (a new trust file is needed to re-key a device).
func (m *Manager) bindTrust(ctx context.Context, tx smartlic.Tx, inst smartlic.Instance, tc smartlic.TrustCode, req smartlic.TrustRequest, pub ed25519.PublicKey, now time.Time) (smartlic.Instance, error) {
	switch {
	case tc.UDI != req.UDI || inst.UDI != req.UDI:
		return inst, smartlic.Errorf(smartlic.ENotTrusted, "udi", "the trust code is for %s, not %s", tc.UDI, req.UDI)
	case inst.Mode != smartlic.ModePolicy || inst.TrustSerial != tc.Serial:
		return inst, smartlic.Errorf(smartlic.ENotTrusted, "trust_code", "the trust code of %s was replaced by a newer one (or the instance left Using Policy); import the current trust file", inst.UDI)
	case tc.Bound() && !pub.Equal(ed25519.PublicKey(tc.PublicKey)):
		return inst, smartlic.Errorf(smartlic.ENotTrusted, "trust_code", "the trust code is bound to another key")
	case len(inst.PublicKey) > 0 && pub.Equal(ed25519.PublicKey(inst.PublicKey)):
		return inst, nil
	case len(inst.PublicKey) > 0:
		return inst, smartlic.Errorf(smartlic.ENotTrusted, "public_key", "the trust of %s is already bound to another key; generate a new trust file for it to bind a new key", inst.UDI)
	}
	inst.PublicKey, inst.TrustedAt, inst.LastContactAt = pub, &now, now
	if req.Hostname != "" {
		inst.Hostname = req.Hostname
	}
	if err := tx.UpdateInstance(ctx, inst); err != nil {
		return inst, err
	}
	return inst, m.record(deviceActor(ctx, inst), tx, smartlic.Event{Type: "instance.trust_bound", SmartAccountID: inst.SmartAccountID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
		Message: fmt.Sprintf("%s bound its key to the offline trust code %s", inst.UDI, tc.Serial)})
}

// trustWithToken consumes one use of the token and trusts the instance in
// the token's Virtual Account.
func (m *Manager) trustWithToken(ctx context.Context, tx smartlic.Tx, req smartlic.TrustRequest, now time.Time) (smartlic.TrustCode, error) {
	tok, ok, err := tx.ConsumeToken(ctx, hashSecret(req.Token), now)
	if err != nil {
		return smartlic.TrustCode{}, err
	}
	if !ok {
		return smartlic.TrustCode{}, tokenRefusal(ctx, tx, req.Token, now)
	}
	va, err := tx.GetVirtualAccountByID(ctx, tok.VirtualAccountID)
	if err != nil {
		return smartlic.TrustCode{}, err
	}
	sa, err := tx.GetSmartAccount(ctx, va.SmartAccountID)
	if err != nil {
		return smartlic.TrustCode{}, err
	}
	if sa.Status != smartlic.SAActive {
		return smartlic.TrustCode{}, smartlic.Errorf(smartlic.EForbidden, "token", "Smart Account %s is awaiting approval", sa.Domain)
	}
	product, err := tx.GetProduct(ctx, req.UDI.PID)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.TrustCode{}, smartlic.Invalid("udi", "product ID %q is not in the catalogue", req.UDI.PID)
	}
	if err != nil {
		return smartlic.TrustCode{}, err
	}
	old, err := tx.GetInstanceByUDI(ctx, req.UDI)
	switch {
	case smartlic.ErrorCode(err) == smartlic.ENotFound:
	case err != nil:
		return smartlic.TrustCode{}, err
	case old.Mode == smartlic.ModePolicy && old.SmartAccountID == sa.ID &&
		(len(old.PublicKey) == 0 || ed25519.PublicKey(old.PublicKey).Equal(ed25519.PublicKey(req.PublicKey)) || req.Force):
		// Already under policy in this account: (re)bind the key and keep
		// the instance, its VA and its counted usage.
		if err := tx.LockInstance(ctx, old.ID); err != nil {
			return smartlic.TrustCode{}, err
		}
		old.PublicKey, old.TrustSerial, old.TrustedAt, old.LastContactAt = req.PublicKey, newID(), &now, now
		old.AllowExportControlled = old.AllowExportControlled || tok.AllowExportControlled
		if req.Hostname != "" {
			old.Hostname = req.Hostname
		}
		if err := tx.UpdateInstance(ctx, old); err != nil {
			return smartlic.TrustCode{}, err
		}
		if err := m.record(deviceActor(ctx, old), tx, smartlic.Event{Type: "instance.trusted", SmartAccountID: sa.ID, VirtualAccountID: old.VirtualAccountID, Subject: old.ID,
			Message: fmt.Sprintf("%s (%s) received a new trust code with token %q", old.UDI, old.Hostname, tok.Description)}); err != nil {
			return smartlic.TrustCode{}, err
		}
		return m.trustCodeOf(ctx, tx, old, now)
	case !req.Force:
		return smartlic.TrustCode{}, smartlic.Errorf(smartlic.EConflict, "udi", "%s is already known to the manager (%s); ask for trust with force to replace it", req.UDI, old.Mode)
	default:
		if err := m.removeInstance(ctx, tx, old, "instance.replaced", "replaced by a trust request with force"); err != nil {
			return smartlic.TrustCode{}, err
		}
	}
	inst := smartlic.Instance{
		ID: newID(), SmartAccountID: sa.ID, VirtualAccountID: va.ID, UDI: req.UDI, Hostname: req.Hostname,
		ProductID: product.ID, Mode: smartlic.ModePolicy, AllowExportControlled: tok.AllowExportControlled,
		PublicKey: req.PublicKey, RegisteredAt: now, LastContactAt: now, TrustSerial: newID(), TrustedAt: &now,
	}
	if err := tx.InsertInstance(ctx, inst); err != nil {
		return smartlic.TrustCode{}, err
	}
	if err := m.record(deviceActor(ctx, inst), tx, smartlic.Event{Type: "instance.trusted", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: inst.ID,
		Message: fmt.Sprintf("%s (%s) established trust under Using Policy with token %q", inst.UDI, inst.Hostname, tok.Description), After: eventData(inst)}); err != nil {
		return smartlic.TrustCode{}, err
	}
	return trustCode(inst, sa, va, now), nil
}

// trustCodeOf is the trust code of inst as it stands.
func (m *Manager) trustCodeOf(ctx context.Context, tx smartlic.Tx, inst smartlic.Instance, now time.Time) (smartlic.TrustCode, error) {
	va, err := tx.GetVirtualAccountByID(ctx, inst.VirtualAccountID)
	if err != nil {
		return smartlic.TrustCode{}, err
	}
	sa, err := tx.GetSmartAccount(ctx, inst.SmartAccountID)
	if err != nil {
		return smartlic.TrustCode{}, err
	}
	return trustCode(inst, sa, va, now), nil
}

func trustCode(inst smartlic.Instance, sa smartlic.SmartAccount, va smartlic.VirtualAccount, now time.Time) smartlic.TrustCode {
	return smartlic.TrustCode{
		Serial: inst.TrustSerial, InstanceID: inst.ID, UDI: inst.UDI, SmartAccount: sa.Domain, SmartAccountName: sa.Name,
		VirtualAccount: va.Name, PublicKey: inst.PublicKey, IssuedAt: now,
	}
}

// GenerateTrustFile issues offline trust codes for the listed UDIs in a
// Virtual Account: each UDI gets an instance under Using Policy (or keeps
// its instance, if it is already under policy in this account) with a new
// trust serial and no key yet. The device imports the file; its first
// trust request or usage file binds its key. A UDI registered the classic
// way moves to policy from the device instead (policy-mode), and a UDI of
// another Smart Account is refused.
func (m *Manager) GenerateTrustFile(ctx context.Context, saKey, vaKey string, udis []smartlic.UDI) (smartlic.TrustFile, error) {
	var file smartlic.TrustFile
	switch {
	case len(udis) == 0:
		return file, smartlic.Invalid("udis", "list at least one UDI")
	case len(udis) > smartlic.MaxTrustCodesPerFile:
		return file, smartlic.Invalid("udis", "at most %d UDIs per trust file (got %d)", smartlic.MaxTrustCodesPerFile, len(udis))
	}
	seen := make(map[smartlic.UDI]bool, len(udis))
	for i, u := range udis {
		if err := u.Validate(fmt.Sprintf("udis[%d]", i)); err != nil {
			return file, err
		}
		if seen[u] {
			return file, smartlic.Invalid(fmt.Sprintf("udis[%d]", i), "%s is listed twice", u)
		}
		seen[u] = true
	}
	now := m.clock.Now()
	codes := make([]smartlic.TrustCode, 0, len(udis))
	err := m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, va, err := m.getVAAs(ctx, tx, PermLicenseManage, saKey, vaKey)
		if err != nil {
			return err
		}
		if sa.Status != smartlic.SAActive {
			return smartlic.Errorf(smartlic.EForbidden, "sa", "Smart Account %s is awaiting approval", sa.Domain)
		}
		products := map[string]smartlic.Product{}
		for i, u := range udis {
			field := fmt.Sprintf("udis[%d]", i)
			p, ok := products[u.PID]
			if !ok {
				p, err = tx.GetProduct(ctx, u.PID)
				if smartlic.ErrorCode(err) == smartlic.ENotFound {
					return smartlic.Invalid(field, "product ID %q is not in the catalogue", u.PID)
				}
				if err != nil {
					return err
				}
				products[u.PID] = p
			}
			inst, err := tx.GetInstanceByUDI(ctx, u)
			switch {
			case smartlic.ErrorCode(err) == smartlic.ENotFound:
				inst = smartlic.Instance{
					ID: newID(), SmartAccountID: sa.ID, VirtualAccountID: va.ID, UDI: u, ProductID: p.ID,
					Mode: smartlic.ModePolicy, RegisteredAt: now, LastContactAt: now, TrustSerial: newID(), TrustedAt: &now,
				}
				if err := tx.InsertInstance(ctx, inst); err != nil {
					return err
				}
			case err != nil:
				return err
			case inst.SmartAccountID != sa.ID:
				return smartlic.Errorf(smartlic.EConflict, field, "%s belongs to another Smart Account", u)
			case inst.Mode != smartlic.ModePolicy:
				return smartlic.Errorf(smartlic.EConflict, field, "%s is registered the classic way; move it to Using Policy from the device (smartlic device license smart policy-mode)", u)
			default:
				// A new serial (and no key) replaces the trust in force:
				// an RMA'd or re-installed device binds its new key.
				if err := tx.LockInstance(ctx, inst.ID); err != nil {
					return err
				}
				inst.TrustSerial, inst.TrustedAt, inst.PublicKey = newID(), &now, nil
				if err := tx.UpdateInstance(ctx, inst); err != nil {
					return err
				}
			}
			if err := m.record(ctx, tx, smartlic.Event{Type: "instance.trust_issued", SmartAccountID: sa.ID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
				Message: fmt.Sprintf("offline trust code %s issued for %s", inst.TrustSerial, u)}); err != nil {
				return err
			}
			codes = append(codes, trustCode(inst, sa, va, now))
			if inst.VirtualAccountID != va.ID {
				vaOf, err := tx.GetVirtualAccountByID(ctx, inst.VirtualAccountID)
				if err != nil {
					return err
				}
				codes[len(codes)-1].VirtualAccount = vaOf.Name
			}
		}
		file = smartlic.TrustFile{Type: smartlic.FileTypeTrust, SmartAccount: sa.Domain, VirtualAccount: va.Name, IssuedAt: now, Keys: m.currentPublicKeys()}
		return nil
	})
	if err != nil {
		return file, err
	}
	file.TrustCodes = make([]smartlic.Envelope, len(codes))
	for i, c := range codes {
		if file.TrustCodes[i], err = m.seal(smartlic.TypeTrustCode, c); err != nil {
			return file, err
		}
	}
	return file, nil
}

// MoveToPolicy moves a classic-registered instance to Using Policy: its
// trust comes from its registration (the key its ID certificate names),
// and its usage stays counted as it is — the first report that follows
// measures the same counts and changes nothing.
func (m *Manager) MoveToPolicy(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	return m.deviceCall(ctx, env, smartlic.TypePolicyModeRequest, smartlic.TypeTrustCode, func(tx smartlic.Tx, inst smartlic.Instance, _ smartlic.DeviceRequest, now time.Time) (any, error) {
		inst.Mode, inst.TrustSerial, inst.TrustedAt, inst.LastContactAt = smartlic.ModePolicy, newID(), &now, now
		// Licenses it holds are in use under the policy from now on: its
		// first report is due from now, as for a first use (without it,
		// an instance that never reports would never be due).
		if inst.FirstUseAt == nil && slices.ContainsFunc(inst.Usage, func(u smartlic.Usage) bool { return u.Count > 0 }) {
			inst.FirstUseAt = &now
		}
		if err := tx.UpdateInstance(ctx, inst); err != nil {
			return nil, err
		}
		if err := m.record(deviceActor(ctx, inst), tx, smartlic.Event{Type: "instance.policy_mode", SmartAccountID: inst.SmartAccountID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
			Message: fmt.Sprintf("%s moved from registration to Smart Licensing Using Policy; its usage stays counted", inst.UDI)}); err != nil {
			return nil, err
		}
		return m.trustCodeOf(ctx, tx, inst, now)
	})
}
