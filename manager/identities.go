package manager

import (
	"context"
	"errors"

	"github.com/smartlic/smartlic"
)

var _ smartlic.IdentityService = (*Manager)(nil)

// errSSO refuses a single sign-on. The message is for the person at the
// portal, who has just proved to its provider who it is, so it may say
// what is wrong; reason is the cause, for the log line.
func errSSO(message, reason string) error {
	return &smartlic.Error{Code: smartlic.EForbidden, Message: message, Err: errors.New(reason)}
}

// SignInWithOIDC opens a session for the person of a verified ID token
// (see smartlic.IdentityService). Roles are not the provider's to give: a
// user it creates has none until an administrator of an account grants
// one (or it accepts an invitation), and sees the portal's "no account
// yet" page meanwhile.
func (m *Manager) SignInWithOIDC(ctx context.Context, c smartlic.OIDCClaims) (smartlic.Login, error) {
	if err := checkClaims(c); err != nil {
		return smartlic.Login{}, err
	}
	email, err := smartlic.NormalizeEmail("email", c.Email)
	if err != nil {
		return smartlic.Login{}, errSSO("Your identity provider did not give a usable e-mail address; ask its administrator to release the email claim.", err.Error())
	}
	if !c.EmailVerified {
		return smartlic.Login{}, errSSO("Your identity provider has not verified your e-mail address ("+email+"), so it cannot be matched to a user here.", "email_verified is not true")
	}
	var l smartlic.Login
	// Two first sign-ins of one person (two tabs) race to create the user
	// or the binding: the loser's transaction fails with a conflict, and
	// its second attempt finds what the winner stored.
	for attempt := 0; ; attempt++ {
		err = m.st.Write(ctx, func(tx smartlic.Tx) error {
			u, err := m.ssoUser(ctx, tx, c, email)
			if err != nil {
				return err
			}
			l, err = m.openSession(ctx, tx, u, u.Email+" signed in with single sign-on ("+c.Issuer+")")
			return err
		})
		if smartlic.ErrorCode(err) == smartlic.EConflict && attempt == 0 {
			continue
		}
		return l, err
	}
}

// checkClaims refuses what no provider should assert: the caller verified
// the token's signature, so this guards the columns, not against forgery.
func checkClaims(c smartlic.OIDCClaims) error {
	switch {
	case c.Issuer == "" || len(c.Issuer) > smartlic.MaxOIDCIssuerLength || smartlic.ValidateIdentifier("iss", c.Issuer) != nil:
		return errSSO("Your identity provider sent a sign-in without a usable issuer.", "bad iss claim")
	case c.Subject == "" || len(c.Subject) > smartlic.MaxOIDCSubjectLength || smartlic.ValidateIdentifier("sub", c.Subject) != nil:
		return errSSO("Your identity provider sent a sign-in without a usable subject (sub).", "bad sub claim")
	}
	return nil
}

// ssoUser finds or makes the user of a sign-in and keeps its binding.
func (m *Manager) ssoUser(ctx context.Context, tx smartlic.Tx, c smartlic.OIDCClaims, email string) (smartlic.User, error) {
	now := m.clock.Now()
	id, err := tx.GetUserIdentity(ctx, c.Issuer, c.Subject)
	switch smartlic.ErrorCode(err) {
	case "":
		u, err := tx.GetUser(ctx, id.UserID)
		if err != nil {
			return u, err
		}
		if u.Disabled {
			return u, errSSO("Your user ("+u.Email+") is disabled here; ask an administrator.", "user "+u.ID+" is disabled")
		}
		// The bound user signs in whatever e-mail the provider asserts
		// now: that is the point of binding the subject.
		return u, tx.TouchUserIdentity(ctx, id.ID, email, now)
	case smartlic.ENotFound:
	default:
		return smartlic.User{}, err
	}

	u, err := tx.GetUser(ctx, email)
	switch smartlic.ErrorCode(err) {
	case "":
		bound, err := tx.UserIdentities(ctx, u.ID)
		if err != nil {
			return u, err
		}
		for _, b := range bound {
			if b.Issuer == c.Issuer {
				return u, errSSO("The user "+email+" is already linked to another account at your identity provider; sign in with that account, or ask an administrator.",
					"user "+u.ID+" is bound to subject "+b.Subject+", not "+c.Subject)
			}
		}
		if u.Disabled {
			return u, errSSO("Your user ("+u.Email+") is disabled here; ask an administrator.", "user "+u.ID+" is disabled")
		}
	case smartlic.ENotFound:
		if u, err = m.createSSOUser(ctx, tx, c, email); err != nil {
			return u, err
		}
	default:
		return u, err
	}
	id = smartlic.UserIdentity{ID: newID(), UserID: u.ID, Issuer: c.Issuer, Subject: c.Subject, Email: email, CreatedAt: now, LastUsedAt: now}
	if err := tx.InsertUserIdentity(ctx, id); err != nil {
		return u, err
	}
	ctx = smartlic.WithActor(ctx, smartlic.Actor{KeyID: id.ID, Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorSession})
	return u, m.record(ctx, tx, smartlic.Event{Type: "identity.linked", Subject: u.ID,
		Message: u.Email + " linked to subject " + c.Subject + " of " + c.Issuer, After: eventData(id)})
}

// createSSOUser makes the user of a first sign-in, without a password:
// Login refuses it until it has one, and an invitation never sets one.
func (m *Manager) createSSOUser(ctx context.Context, tx smartlic.Tx, c smartlic.OIDCClaims, email string) (smartlic.User, error) {
	name := c.Name
	if name == "" || smartlic.ValidateName("name", name, 200) != nil {
		name = email
	}
	u := smartlic.User{ID: newID(), Email: email, Name: name, CreatedAt: m.clock.Now()}
	if err := tx.InsertUser(ctx, u); err != nil {
		return u, err
	}
	ctx = smartlic.WithActor(ctx, smartlic.Actor{KeyID: u.ID, Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorSession})
	return u, m.record(ctx, tx, smartlic.Event{Type: "user.created", Subject: u.ID,
		Message: "user " + u.Email + " created by single sign-on (" + c.Issuer + ")", After: eventData(u)})
}

// ListIdentities lists the calling user's bindings.
func (m *Manager) ListIdentities(ctx context.Context) (list []smartlic.UserIdentity, err error) {
	a, err := actorUser(ctx)
	if err != nil {
		return nil, err
	}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		list, err = tx.UserIdentities(ctx, a.UserID)
		return err
	})
	return list, err
}

// UnlinkIdentity removes one of the calling user's bindings. Another
// user's binding is not found, as if it did not exist.
func (m *Manager) UnlinkIdentity(ctx context.Context, id string) (i smartlic.UserIdentity, err error) {
	a, err := actorUser(ctx)
	if err != nil {
		return i, err
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		list, err := tx.UserIdentities(ctx, a.UserID)
		if err != nil {
			return err
		}
		found := false
		for _, b := range list {
			if b.ID == id {
				i, found = b, true
			}
		}
		if !found {
			return smartlic.NotFound("identity %q not found", id)
		}
		if err := tx.DeleteUserIdentity(ctx, i.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "identity.unlinked", Subject: a.UserID,
			Message: a.Email + " unlinked subject " + i.Subject + " of " + i.Issuer, Before: eventData(i)})
	})
	return i, err
}
