package manager

import (
	"context"
	"strings"

	"github.com/smartlic/smartlic"
)

// The vendor operator has no user and no password: it signs in to the
// portal with its e-mail and its operator key. What the browser keeps is a
// session like a user's — a random secret whose hash is stored, with the
// same idle and absolute limits and a CSRF token — never the key: a cookie
// that leaks then ends with the session instead of being a lasting API
// credential, and signing out ends it on the server.

// operatorLogin opens an operator session for the holder of an operator
// key whose e-mail matches.
func (m *Manager) operatorLogin(ctx context.Context, email, key string) (smartlic.Login, error) {
	actor, err := m.Authenticate(ctx, key)
	if smartlic.ErrorCode(err) == smartlic.EUnauthorized {
		return smartlic.Login{}, errLogin()
	}
	if err != nil {
		return smartlic.Login{}, err
	}
	if actor.Role != smartlic.RoleOperator || !strings.EqualFold(actor.Email, email) {
		return smartlic.Login{}, errLogin()
	}
	secret, s, err := newSession(operatorSessPrefix, m.clock.Now())
	if err != nil {
		return smartlic.Login{}, err
	}
	s.OperatorKeyID = actor.KeyID
	ctx = smartlic.WithActor(ctx, operatorSessionActor(s, actor.Email))
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := tx.InsertOperatorSession(ctx, s); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "operator.login", Subject: actor.KeyID, Message: actor.Email + " signed in to the portal"})
	})
	if err != nil {
		return smartlic.Login{}, err
	}
	return smartlic.Login{Secret: secret, CSRFToken: s.CSRFToken, User: smartlic.User{Email: actor.Email, Name: actor.Email}, ExpiresAt: s.ExpiresAt}, nil
}

// authenticateOperatorSession resolves an operator's session cookie.
func (m *Manager) authenticateOperatorSession(ctx context.Context, secret string) (smartlic.Actor, smartlic.Session, error) {
	var (
		s smartlic.Session
		k smartlic.APIKey
	)
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		s, k, err = tx.GetOperatorSessionByHash(ctx, hashSecret(secret))
		return err
	})
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.Actor{}, smartlic.Session{}, errCredentials("invalid operator session")
	}
	if err != nil {
		return smartlic.Actor{}, s, err
	}
	now := m.clock.Now()
	if why := sessionEnded(s, now); why != "" {
		return smartlic.Actor{}, smartlic.Session{}, errCredentials("operator " + why)
	}
	if k.Role != smartlic.RoleOperator {
		return smartlic.Actor{}, smartlic.Session{}, errCredentials("the session's key is no operator's")
	}
	if err := m.touchSession(ctx, &s, now, func(tx smartlic.Tx) error { return tx.TouchOperatorSession(ctx, s.ID, now) }); err != nil {
		return smartlic.Actor{}, s, err
	}
	return operatorSessionActor(s, k.Email), s, nil
}

// operatorSessionActor is the operator acting through a portal session:
// the operator's role, and the session (not the key) as the credential,
// so that cookie requests need the CSRF token as users' do.
func operatorSessionActor(s smartlic.Session, email string) smartlic.Actor {
	return smartlic.Actor{KeyID: s.ID, Email: email, Role: smartlic.RoleOperator, Kind: smartlic.ActorSession}
}

// ForgetSessions deletes the sessions, users' and the operator's, that
// are over by their absolute or idle limit, and the expired device
// sign-in codes (whose rows a new sign-in otherwise sweeps only when one
// starts). The background jobs call it; it answers how many went.
func (m *Manager) ForgetSessions(ctx context.Context) (int64, error) {
	now := m.clock.Now()
	n, err := m.deleteInBatches(ctx, func(tx smartlic.Tx) (int64, error) {
		return tx.ForgetSessions(ctx, now, now.Add(-SessionIdle), forgetBatch)
	})
	if err != nil {
		return n, err
	}
	var codes int64
	err = m.st.Write(ctx, func(tx smartlic.Tx) (err error) {
		codes, err = tx.DeleteDeviceAuthorizations(ctx, now)
		return err
	})
	return n + codes, err
}
