package manager

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Register is step one of classic Smart Licensing: an instance presents a
// token and a public key and receives an ID certificate. The token use, the
// instance row and its VA membership commit together or not at all.
//
// The request is self-signed: its kid is the instance's public key
// (unpadded base64url), so the signature is checked before the payload is
// read, and the signature proves the instance holds the private key.
func (m *Manager) Register(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	pub, err := base64.RawURLEncoding.DecodeString(env.KeyID)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return smartlic.Envelope{}, smartlic.Errorf(smartlic.ESignature, "kid", "a registration request's kid must be the instance's Ed25519 public key in unpadded base64url")
	}
	if err := sign.Verify(env, smartlic.TypeRegisterRequest, pub); err != nil {
		return smartlic.Envelope{}, err
	}
	var req smartlic.RegisterRequest
	if err := smartlic.DecodePayload(env, &req); err != nil {
		return smartlic.Envelope{}, err
	}
	now := m.clock.Now()
	switch {
	case !ed25519.PublicKey(pub).Equal(ed25519.PublicKey(req.PublicKey)):
		return smartlic.Envelope{}, smartlic.Errorf(smartlic.ESignature, "public_key", "public_key does not match the key that signed the request")
	case strings.TrimSpace(req.Token) == "":
		return smartlic.Envelope{}, smartlic.Invalid("token", "a registration token is required")
	case len(req.Token) > 200:
		return smartlic.Envelope{}, smartlic.Errorf(smartlic.ETokenUnknown, "token", "registration token not recognised")
	}
	if err := req.UDI.Validate("udi"); err != nil {
		return smartlic.Envelope{}, err
	}
	if err := smartlic.ValidateHostname("hostname", req.Hostname); err != nil {
		return smartlic.Envelope{}, err
	}
	if err := checkFresh(req.SentAt, now); err != nil {
		return smartlic.Envelope{}, err
	}
	if err := checkNonce(req.Nonce); err != nil {
		return smartlic.Envelope{}, err
	}

	if !req.Force {
		if answer, ok, err := m.registerChecked(ctx, env, req, now); ok {
			if err != nil {
				return smartlic.Envelope{}, err
			}
			return m.seal(smartlic.TypeIDCert, answer)
		}
	}
	var answer json.RawMessage
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		// A second copy of this envelope (the device retrying after a
		// lost answer, or a replay) gets the same ID certificate and
		// spends no token use: with force, a replay would otherwise drop
		// the instance the first copy registered.
		answer, err = once(ctx, tx, env, "", req.SentAt, func() (any, error) { return m.register(ctx, tx, req, now) })
		return err
	})
	if err != nil {
		return smartlic.Envelope{}, err
	}
	return m.seal(smartlic.TypeIDCert, answer)
}

// registerChecked is the registration path for the common case: it reads
// and checks the token, Virtual Account, Smart Account and product in one
// query outside any transaction, builds the instance, its ID certificate and its
// event, and leaves the writes to the store's Register, which takes the
// token use and appends the event last (on PostgreSQL, batched with the
// other registrations of the account; see docs/design.md). ok is false
// when the read finds something wrong, or nothing: then the caller takes
// the transactional path, which decides in the old order (a copy of an
// accepted request first, then the token) and says why.
func (m *Manager) registerChecked(ctx context.Context, env smartlic.Envelope, req smartlic.RegisterRequest, now time.Time) (answer json.RawMessage, ok bool, err error) {
	scope, err := m.st.RegistrationScope(ctx, hashSecret(req.Token), req.UDI.PID)
	tok, va, sa := scope.Token, scope.VirtualAccount, scope.SmartAccount
	if err != nil || tok.UsableErr(now) != nil || sa.Status != smartlic.SAActive || scope.ProductID == "" {
		return nil, false, nil
	}
	inst := smartlic.Instance{
		ID: newID(), SmartAccountID: sa.ID, VirtualAccountID: va.ID, UDI: req.UDI,
		Hostname: req.Hostname, ProductID: scope.ProductID, Mode: smartlic.ModeRegistered,
		AllowExportControlled: tok.AllowExportControlled, PublicKey: req.PublicKey,
		RegisteredAt: now, LastContactAt: now, IDCertExpiresAt: now.Add(smartlic.IDCertValidity),
	}
	answer, err = json.Marshal(idCert(inst, sa, va, now))
	if err != nil {
		return nil, true, smartlic.Internal(err, "encoding the answer")
	}
	e, _ := m.entry(deviceActor(ctx, inst), registeredEvent(inst, tok))
	prior, err := m.st.Register(ctx, smartlic.Registration{
		Request:   smartlic.SeenRequest{Hash: requestHash(env), SentAt: req.SentAt, ExpiresAt: req.SentAt.Add(replayMemory), Answer: answer},
		TokenID:   tok.ID,
		TokenHash: tok.Hash,
		Instance:  inst,
		Event:     e,
	}, now)
	switch {
	case smartlic.ErrorCode(err) == smartlic.EConflict && smartlic.ErrorField(err) == "udi":
		return nil, true, udiTaken(req.UDI)
	case err != nil:
		return nil, true, err
	case prior != nil:
		return prior, true, nil
	}
	return answer, true, nil
}

func registeredEvent(inst smartlic.Instance, tok smartlic.Token) smartlic.Event {
	return smartlic.Event{Type: "instance.registered", SmartAccountID: inst.SmartAccountID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
		Message: fmt.Sprintf("%s (%s) registered with token %q", inst.UDI, inst.Hostname, tok.Description), After: eventData(inst)}
}

func udiTaken(udi smartlic.UDI) error {
	return smartlic.Errorf(smartlic.EConflict, "udi", "%s is already registered; deregister it first or register with force", udi)
}

// register consumes the token and creates the instance for a verified
// registration request, inside tx: the path of a registration with force,
// and of one the read in registerChecked refused.
func (m *Manager) register(ctx context.Context, tx smartlic.Tx, req smartlic.RegisterRequest, now time.Time) (smartlic.IDCert, error) {
	var cert smartlic.IDCert
	err := func() error {
		tok, ok, err := tx.ConsumeToken(ctx, hashSecret(req.Token), now)
		if err != nil {
			return err
		}
		if !ok {
			return tokenRefusal(ctx, tx, req.Token, now)
		}
		va, err := tx.GetVirtualAccountByID(ctx, tok.VirtualAccountID)
		if err != nil {
			return err
		}
		sa, err := tx.GetSmartAccount(ctx, va.SmartAccountID)
		if err != nil {
			return err
		}
		if sa.Status != smartlic.SAActive {
			return smartlic.Errorf(smartlic.EForbidden, "token", "Smart Account %s is awaiting approval", sa.Domain)
		}
		product, err := tx.GetProduct(ctx, req.UDI.PID)
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.Invalid("udi", "product ID %q is not in the catalogue", req.UDI.PID)
		}
		if err != nil {
			return err
		}
		if req.Force {
			old, err := tx.GetInstanceByUDI(ctx, req.UDI)
			switch {
			case err == nil:
				if err := m.removeInstance(ctx, tx, old, "instance.replaced", "re-registered with force"); err != nil {
					return err
				}
			case smartlic.ErrorCode(err) != smartlic.ENotFound:
				return err
			}
		}
		inst := smartlic.Instance{
			ID: newID(), SmartAccountID: sa.ID, VirtualAccountID: va.ID, UDI: req.UDI,
			Hostname: req.Hostname, ProductID: product.ID, Mode: smartlic.ModeRegistered,
			AllowExportControlled: tok.AllowExportControlled, PublicKey: req.PublicKey,
			RegisteredAt: now, LastContactAt: now, IDCertExpiresAt: now.Add(smartlic.IDCertValidity),
		}
		// Without force, the UDI's uniqueness in the store is the check:
		// registration is the hottest write, and looking first would cost
		// a query that almost always finds nothing.
		if err := tx.InsertInstance(ctx, inst); err != nil {
			if smartlic.ErrorCode(err) == smartlic.EConflict && smartlic.ErrorField(err) == "udi" {
				return udiTaken(req.UDI)
			}
			return err
		}
		cert = idCert(inst, sa, va, now)
		return m.record(deviceActor(ctx, inst), tx, registeredEvent(inst, tok))
	}()
	return cert, err
}

// tokenRefusal says why ConsumeToken found no usable token.
func tokenRefusal(ctx context.Context, tx smartlic.Tx, secret string, now time.Time) error {
	t, err := tx.GetTokenByHash(ctx, hashSecret(secret))
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.Errorf(smartlic.ETokenUnknown, "token", "registration token not recognised")
	}
	if err != nil {
		return err
	}
	if err := t.UsableErr(now); err != nil {
		return err
	}
	// The token became usable between the claim and this read: only
	// possible if a clock went backwards. Refuse rather than guess.
	return smartlic.Errorf(smartlic.EConflict, "token", "registration token changed during the request; retry")
}

// Authorize records the usage an instance reports and answers with a signed
// authorization per license type.
func (m *Manager) Authorize(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	return m.deviceCall(ctx, env, smartlic.TypeAuthRequest, smartlic.TypeAuthorization, func(tx smartlic.Tx, inst smartlic.Instance, req smartlic.DeviceRequest, now time.Time) (any, error) {
		usage, err := m.applyUsage(ctx, tx, inst, req.Usage)
		if err != nil {
			return nil, err
		}
		if !sameUsage(inst.Usage, usage) {
			if err := m.record(deviceActor(ctx, inst), tx, smartlic.Event{Type: "instance.usage_changed", SmartAccountID: inst.SmartAccountID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
				Message: fmt.Sprintf("%s now uses %s", inst.UDI, usageSummary(usage)), Before: eventData(inst.Usage), After: eventData(usage)}); err != nil {
				return nil, err
			}
		}
		inst.LastContactAt = now
		inst.AuthorizedAt = &now
		exp := now.Add(smartlic.AuthValidity)
		inst.AuthExpiresAt = &exp
		if err := tx.UpdateInstance(ctx, inst); err != nil {
			return nil, err
		}
		cancelled, err := cancelledSLACsOf(ctx, tx, inst)
		if err != nil {
			return nil, err
		}
		return smartlic.Authorization{
			InstanceID: inst.ID, UDI: inst.UDI, IssuedAt: now,
			RenewAfter: now.Add(smartlic.AuthRenewAfter), ExpiresAt: exp, Entitlements: usage,
			CancelledSLACs: cancelled,
		}, nil
	})
}

// RenewID issues a fresh ID certificate to a registered instance.
func (m *Manager) RenewID(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	return m.deviceCall(ctx, env, smartlic.TypeRenewRequest, smartlic.TypeIDCert, func(tx smartlic.Tx, inst smartlic.Instance, _ smartlic.DeviceRequest, now time.Time) (any, error) {
		inst.LastContactAt = now
		inst.IDCertExpiresAt = now.Add(smartlic.IDCertValidity)
		if err := tx.UpdateInstance(ctx, inst); err != nil {
			return nil, err
		}
		va, err := tx.GetVirtualAccountByID(ctx, inst.VirtualAccountID)
		if err != nil {
			return nil, err
		}
		sa, err := tx.GetSmartAccount(ctx, inst.SmartAccountID)
		if err != nil {
			return nil, err
		}
		return idCert(inst, sa, va, now), m.record(deviceActor(ctx, inst), tx, smartlic.Event{Type: "instance.id_renewed", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: inst.ID,
			Message: fmt.Sprintf("%s renewed its ID certificate until %s", inst.UDI, inst.IDCertExpiresAt.Format(time.DateOnly))})
	})
}

// Deregister removes the instance and returns its usage to the pool.
func (m *Manager) Deregister(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	return m.deviceCall(ctx, env, smartlic.TypeDeregisterRequest, smartlic.TypeDeregistered, func(tx smartlic.Tx, inst smartlic.Instance, _ smartlic.DeviceRequest, now time.Time) (any, error) {
		return smartlic.Deregistered{InstanceID: inst.ID, UDI: inst.UDI, At: now},
			m.removeInstance(deviceActor(ctx, inst), tx, inst, "instance.deregistered", "deregistered itself")
	})
}

// deviceCall verifies a request signed by a registered instance, then runs
// fn once (see once) in a write transaction with the instance freshly read
// inside it, and answers with fn's payload signed as answerType.
func (m *Manager) deviceCall(ctx context.Context, env smartlic.Envelope, typ, answerType string, fn func(smartlic.Tx, smartlic.Instance, smartlic.DeviceRequest, time.Time) (any, error)) (smartlic.Envelope, error) {
	if err := sign.CheckShape(env); err != nil {
		return smartlic.Envelope{}, err
	}
	now := m.clock.Now()
	var answer json.RawMessage
	err := m.st.WriteIn(ctx, m.chainOfInstance(ctx, env.KeyID), func(tx smartlic.Tx) error {
		// Locked first, so that a transfer of this instance or another
		// request from it waits instead of writing back a stale copy.
		err := tx.LockInstance(ctx, env.KeyID)
		var inst smartlic.Instance
		if err == nil {
			inst, err = tx.GetInstance(ctx, env.KeyID)
		}
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.Errorf(smartlic.ENotRegistered, "kid", "no registered instance %q; register again", env.KeyID)
		}
		if err != nil {
			return err
		}
		if err := sign.Verify(env, typ, ed25519.PublicKey(inst.PublicKey)); err != nil {
			return err
		}
		if inst.Mode == smartlic.ModePolicy && typ != smartlic.TypeDeregisterRequest {
			return smartlic.Errorf(smartlic.EConflict, "mode", "%s is under Smart Licensing Using Policy: it reports its usage (RUM reports to /device/v1/usage) instead of asking for authorization", inst.UDI)
		}
		var req smartlic.DeviceRequest
		if err := smartlic.DecodePayload(env, &req); err != nil {
			return err
		}
		if req.InstanceID != inst.ID || req.UDI != inst.UDI {
			return smartlic.Errorf(smartlic.ESignature, "instance_id", "request is about another instance than the one that signed it")
		}
		if typ != smartlic.TypeAuthRequest && len(req.Usage) > 0 {
			return smartlic.Invalid("usage", "only authorization requests carry usage")
		}
		if err := checkFresh(req.SentAt, now); err != nil {
			return err
		}
		if err := checkNonce(req.Nonce); err != nil {
			return err
		}
		if !now.Before(inst.IDCertExpiresAt) && typ != smartlic.TypeDeregisterRequest {
			// A year without renewal: the identity is gone, as on a
			// device whose ID certificate lapsed. Leaving is still allowed.
			return smartlic.Errorf(smartlic.ENotRegistered, "kid", "the ID certificate of %s expired at %s; register again", inst.UDI, inst.IDCertExpiresAt.Format(time.RFC3339))
		}
		answer, err = once(ctx, tx, env, inst.ID, req.SentAt, func() (any, error) { return fn(tx, inst, req, now) })
		return err
	})
	if err != nil {
		return smartlic.Envelope{}, err
	}
	return m.seal(answerType, answer)
}

// chainOfInstance is the event chain an instance's requests append to,
// where the store commits a chain's writes together (PostgreSQL); "" where
// it need not be known (SQLite groups every write) or the instance is not
// found (the write then says so). An instance never leaves its Smart
// Account, so the id read here is still right inside the write.
func (m *Manager) chainOfInstance(ctx context.Context, id string) (chain string) {
	if serialWrites(m.st) {
		return ""
	}
	_ = m.st.Read(ctx, func(tx smartlic.Tx) error {
		if inst, err := tx.GetInstance(ctx, id); err == nil {
			chain = inst.SmartAccountID
		}
		return nil
	})
	return chain
}

// checkFresh refuses requests stamped too far from the manager's clock, so
// a captured request cannot be replayed later.
func checkFresh(sent, now time.Time) error {
	if sent.IsZero() {
		return smartlic.Invalid("sent_at", "is required")
	}
	if d := now.Sub(sent); d > smartlic.DeviceClockSkew || d < -smartlic.DeviceClockSkew {
		return smartlic.Invalid("sent_at", "differs from the manager's clock by %s (at most %s allowed); check the device clock", d.Round(time.Second), smartlic.DeviceClockSkew)
	}
	return nil
}

func (m *Manager) seal(typ string, payload any) (smartlic.Envelope, error) {
	k := m.signer()
	var env smartlic.Envelope
	var err error
	if raw, ok := payload.(json.RawMessage); ok {
		// An answer encoded here, or stored after it was: json.Marshal
		// would only scan and copy it again.
		env, err = sign.SealJSON(typ, k.ID, ed25519.PrivateKey(k.PrivateKey), raw)
	} else {
		env, err = sign.Seal(typ, k.ID, ed25519.PrivateKey(k.PrivateKey), payload)
	}
	if err != nil {
		return env, smartlic.Internal(err, "signing the answer")
	}
	return env, nil
}

func idCert(inst smartlic.Instance, sa smartlic.SmartAccount, va smartlic.VirtualAccount, now time.Time) smartlic.IDCert {
	return smartlic.IDCert{
		Serial: newID(), InstanceID: inst.ID, UDI: inst.UDI,
		SmartAccount: sa.Domain, SmartAccountName: sa.Name, VirtualAccount: va.Name,
		PublicKey: inst.PublicKey, IssuedAt: now,
		RenewAfter: now.Add(smartlic.IDCertRenewAfter), ExpiresAt: inst.IDCertExpiresAt,
	}
}
