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

// sessionForgetBatch is how many ended sessions of each kind one delete
// removes.
const sessionForgetBatch = 5000

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
	secret, err := newSecret(operatorSessPrefix)
	if err != nil {
		return smartlic.Login{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return smartlic.Login{}, err
	}
	now := m.clock.Now()
	s := smartlic.Session{ID: newID(), Hash: hashSecret(secret), OperatorKeyID: actor.KeyID, CSRFToken: csrf,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxAge)}
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
	return smartlic.Login{Secret: secret, CSRFToken: csrf, User: smartlic.User{Email: actor.Email, Name: actor.Email}, ExpiresAt: s.ExpiresAt}, nil
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
	switch {
	case !now.Before(s.ExpiresAt):
		return smartlic.Actor{}, smartlic.Session{}, errCredentials("operator session expired")
	case now.Sub(s.LastSeenAt) >= SessionIdle:
		return smartlic.Actor{}, smartlic.Session{}, errCredentials("operator session expired after inactivity")
	case k.Role != smartlic.RoleOperator:
		return smartlic.Actor{}, smartlic.Session{}, errCredentials("the session's key is no operator's")
	}
	if now.Sub(s.LastSeenAt) >= sessionTouchEvery {
		if err := m.st.Write(ctx, func(tx smartlic.Tx) error { return tx.TouchOperatorSession(ctx, s.ID, now) }); err != nil {
			return smartlic.Actor{}, s, err
		}
		s.LastSeenAt = now
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
// are over by their absolute or idle limit. The background jobs call it.
func (m *Manager) ForgetSessions(ctx context.Context) (int64, error) {
	now := m.clock.Now()
	var total int64
	for {
		var n int64
		err := m.st.Write(ctx, func(tx smartlic.Tx) error {
			var err error
			n, err = tx.ForgetSessions(ctx, now, now.Add(-SessionIdle), sessionForgetBatch)
			return err
		})
		total += n
		if err != nil || n < sessionForgetBatch {
			return total, err
		}
	}
}
