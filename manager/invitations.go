package manager

import (
	"context"
	"errors"
	"strings"

	"github.com/smartlic/smartlic"
)

// invitationPrefix marks invitation codes.
const invitationPrefix = "sli_"

// InviteUser invites an e-mail address into a Smart Account with a role.
// The caller needs the power to grant that role there (an SA
// administrator for SA roles, a VA administrator at or above the VA for VA
// roles, the operator anywhere). Whether the address already has a user is
// neither looked at nor told: the answer is the same either way. The code
// is in this answer only.
func (m *Manager) InviteUser(ctx context.Context, saKey string, in smartlic.InvitationInput) (inv smartlic.Invitation, err error) {
	email, err := smartlic.NormalizeEmail("email", in.Email)
	if err != nil {
		return inv, err
	}
	if !smartlic.ValidRole(in.Role) {
		return inv, smartlic.Invalid("role", "must be one of %s (got %q)", strings.Join(smartlic.Roles, ", "), in.Role)
	}
	code, err := newSecret(invitationPrefix)
	if err != nil {
		return inv, err
	}
	a, _ := smartlic.ActorFrom(ctx)
	now := m.clock.Now()
	inv = smartlic.Invitation{ID: newID(), Email: email, Role: in.Role, InvitedBy: a.Email, InviterUserID: a.UserID,
		CodeHash: hashSecret(code), CreatedAt: now, ExpiresAt: now.Add(smartlic.InvitationTTL)}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, va, err := roleTarget(ctx, tx, saKey, in.Role, in.VA)
		if err != nil {
			return err
		}
		if err := m.authorize(ctx, tx, PermUsersManage, &sa, va); err != nil {
			return err
		}
		if a.Kind == smartlic.ActorOAuthClient {
			// A client invites with the authority of the user it acts for.
			c, err := tx.GetOAuthClient(ctx, a.Client)
			if err != nil {
				return err
			}
			inv.InviterUserID = c.CreatorUserID
		}
		inv.SmartAccountID = sa.ID
		if va != nil {
			inv.VirtualAccountID, inv.VirtualAccount = va.ID, va.Name
		}
		if err := tx.InsertInvitation(ctx, inv); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "invitation.created", SmartAccountID: sa.ID, VirtualAccountID: inv.VirtualAccountID,
			Subject: inv.ID, Message: email + " invited as " + inv.Role, After: eventData(inv)})
	})
	if err != nil {
		return smartlic.Invitation{}, err
	}
	inv.Code, inv.State = code, smartlic.InvitationPending
	return inv, nil
}

// roleTarget resolves the Smart Account and, for VA roles, the Virtual
// Account a role is about.
func roleTarget(ctx context.Context, tx smartlic.Tx, saKey, role, vaKey string) (smartlic.SmartAccount, *smartlic.VirtualAccount, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return sa, nil, err
	}
	if !smartlic.IsVARole(role) {
		if vaKey != "" {
			return sa, nil, smartlic.Invalid("va", "%s is a Smart Account role; it takes no Virtual Account", role)
		}
		return sa, nil, nil
	}
	va, err := getVAIn(ctx, tx, sa, vaKey, "va")
	if err != nil {
		return sa, nil, err
	}
	return sa, &va, nil
}

// ListInvitations lists a Smart Account's invitations to those who may see
// its users (a VA administrator included), with their states.
func (m *Manager) ListInvitations(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.Invitation, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.Invitation
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := m.allowedAnywhere(ctx, tx, PermUsersView, sa); err != nil {
			return err
		}
		out, err = tx.ListInvitations(ctx, sa.ID, p)
		return err
	})
	now := m.clock.Now()
	for i := range out {
		out[i].State = out[i].StateAt(now)
	}
	out, next := cutPage(p, out, func(i smartlic.Invitation) string { return i.ID })
	return out, next, err
}

// RevokeInvitation withdraws a pending invitation; the caller needs the
// power that inviting needed.
func (m *Manager) RevokeInvitation(ctx context.Context, saKey, id string) (inv smartlic.Invitation, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		inv, err = tx.GetInvitation(ctx, id)
		if (err == nil && inv.SmartAccountID != sa.ID) || smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.NotFound("invitation %q not found in Smart Account %s", id, sa.Domain)
		}
		if err != nil {
			return err
		}
		var va *smartlic.VirtualAccount
		if inv.VirtualAccountID != "" {
			v, err := tx.GetVirtualAccountByID(ctx, inv.VirtualAccountID)
			if err != nil && smartlic.ErrorCode(err) != smartlic.ENotFound {
				return err
			}
			if err == nil {
				va = &v
			}
		}
		if err := m.authorize(ctx, tx, PermUsersManage, &sa, va); err != nil {
			return err
		}
		if st := inv.StateAt(m.clock.Now()); st != smartlic.InvitationPending {
			return smartlic.Errorf(smartlic.EConflict, "", "invitation %s is %s, not pending", inv.ID, st)
		}
		before := inv
		if err := tx.RevokeInvitation(ctx, inv.ID, m.clock.Now()); err != nil {
			return err
		}
		if inv, err = tx.GetInvitation(ctx, inv.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "invitation.revoked", SmartAccountID: sa.ID, VirtualAccountID: inv.VirtualAccountID,
			Subject: inv.ID, Message: "invitation of " + inv.Email + " revoked", Before: eventData(before), After: eventData(inv)})
	})
	inv.State = inv.StateAt(m.clock.Now())
	return inv, err
}

// errInvitation is the one answer to a code that is unknown, used,
// revoked, expired, or whose inviter may no longer grant the role; the
// reason is the cause, for logs.
func errInvitation(reason string) error {
	return &smartlic.Error{Code: smartlic.EUnauthorized, Field: "code", Message: "invalid or expired invitation code", Err: errors.New(reason)}
}

// AcceptInvitation spends an invitation code and grants its role.
//
//   - No user has the address yet: in.Password (and in.Name) make one. The
//     invitee chooses the password; nobody else ever set it.
//   - A user has it: the caller must be that user, signed in (an actor in
//     ctx, as the portal's accept page has), or give its current password.
//     The password is never changed by an invitation: whoever holds a code
//     (the inviter saw it too) must not take over an existing user with it.
//
// Every step is in one transaction, and the code is claimed with one
// conditional statement, so a code works once. The inviter's authority is
// weighed again now: an invitation from someone who has since lost the
// power to grant the role lapses.
func (m *Manager) AcceptInvitation(ctx context.Context, in smartlic.AcceptInvitationInput) (r smartlic.RoleAssignment, err error) {
	if !strings.HasPrefix(in.Code, invitationPrefix) || len(in.Code) > maxCredentialBytes {
		return r, errInvitation("malformed code")
	}
	if len(in.Password) > smartlic.MaxPasswordLength {
		return r, smartlic.Invalid("password", "must be at most %d bytes", smartlic.MaxPasswordLength)
	}
	caller, _ := smartlic.ActorFrom(ctx)
	proof, err := m.proveInvitee(ctx, in, caller)
	if err != nil {
		return r, err
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		inv, err := tx.GetInvitationByHash(ctx, hashSecret(in.Code))
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return errInvitation("unknown code")
		}
		if err != nil {
			return err
		}
		now := m.clock.Now()
		if st := inv.StateAt(now); st != smartlic.InvitationPending {
			return errInvitation("invitation " + inv.ID + " is " + st)
		}
		sa, err := tx.GetSmartAccount(ctx, inv.SmartAccountID)
		if err != nil {
			return err
		}
		var va *smartlic.VirtualAccount
		if inv.VirtualAccountID != "" {
			v, err := tx.GetVirtualAccountByID(ctx, inv.VirtualAccountID)
			if smartlic.ErrorCode(err) == smartlic.ENotFound {
				return errInvitation("the Virtual Account of invitation " + inv.ID + " is gone")
			}
			if err != nil {
				return err
			}
			va = &v
		}
		if ok, err := m.inviterMayGrant(ctx, tx, inv, &sa, va); err != nil || !ok {
			if err == nil {
				err = errInvitation("the inviter of " + inv.ID + " may no longer grant " + inv.Role)
			}
			return err
		}
		u, err := m.invitee(ctx, tx, inv, proof)
		if err != nil {
			return err
		}
		if err := tx.ClaimInvitation(ctx, inv.ID, u.ID, now); err != nil {
			if smartlic.ErrorCode(err) == smartlic.EConflict {
				return errInvitation("invitation " + inv.ID + " was used meanwhile")
			}
			return err
		}
		// The events of accepting are the invitee's doing.
		ctx := smartlic.WithActor(ctx, smartlic.Actor{KeyID: inv.ID, Email: u.Email, Role: "user", UserID: u.ID, Kind: caller.Kind})
		if r, err = m.grantInvited(ctx, tx, inv, u); err != nil {
			return err
		}
		if va != nil {
			r.VirtualAccount = va.Name
		}
		return m.record(ctx, tx, smartlic.Event{Type: "invitation.accepted", SmartAccountID: sa.ID, VirtualAccountID: inv.VirtualAccountID,
			Subject: inv.ID, Message: u.Email + " accepted the invitation as " + inv.Role})
	})
	return r, err
}

// inviterMayGrant weighs the inviter's authority now. Invitations the
// operator made (no inviter user) keep the vendor's.
func (m *Manager) inviterMayGrant(ctx context.Context, tx smartlic.Tx, inv smartlic.Invitation, sa *smartlic.SmartAccount, va *smartlic.VirtualAccount) (bool, error) {
	if inv.InviterUserID == "" {
		return true, nil
	}
	inviter, err := tx.GetUser(ctx, inv.InviterUserID)
	if err != nil || inviter.Disabled {
		return false, err
	}
	return m.allowed(ctx, tx, creatorActor(inviter), PermUsersManage, sa, va)
}

// inviteeProof is what the accepting person proved before the write
// transaction: the argon2 work (checking an existing user's password,
// hashing a new user's) takes tens of milliseconds, and on SQLite every
// other write would wait behind it inside the transaction.
type inviteeProof struct {
	userID  string // the existing user of the address, or empty
	vouched bool   // the caller is that user, or gave its password
	name    string // a new user's name
	hash    string // a new user's password hash
}

// proveInvitee reads the invitation and its address's user, then checks or
// hashes the password outside any transaction. invitee checks in the write
// transaction that nothing it relied on changed.
func (m *Manager) proveInvitee(ctx context.Context, in smartlic.AcceptInvitationInput, caller smartlic.Actor) (inviteeProof, error) {
	var (
		p      inviteeProof
		inv    smartlic.Invitation
		u      smartlic.User
		exists bool
	)
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		inv, err = tx.GetInvitationByHash(ctx, hashSecret(in.Code))
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return errInvitation("unknown code")
		}
		if err != nil {
			return err
		}
		if st := inv.StateAt(m.clock.Now()); st != smartlic.InvitationPending {
			return errInvitation("invitation " + inv.ID + " is " + st)
		}
		u, err = tx.GetUser(ctx, inv.Email)
		switch {
		case err == nil:
			exists = true
		case smartlic.ErrorCode(err) != smartlic.ENotFound:
			return err
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if caller.UserID != "" && caller.Email != inv.Email {
		return p, smartlic.Errorf(smartlic.EForbidden, "code", "this invitation is for another e-mail address; sign out, or sign in as that address")
	}
	if exists {
		// The password is checked for a disabled user too, so the answer's
		// timing does not tell a disabled account from a wrong password.
		p.userID = u.ID
		p.vouched = caller.UserID == u.ID || m.checkPassword(u.PasswordHash, in.Password)
		return p, nil
	}
	p.name = in.Name
	if p.name == "" {
		p.name = inv.Email
	}
	if err := smartlic.ValidateName("name", p.name, 200); err != nil {
		return p, err
	}
	if err := smartlic.ValidatePassword("password", in.Password); err != nil {
		return p, err
	}
	p.hash, err = hashPassword(in.Password)
	return p, err
}

// invitee is the user accepting inv: the existing user of the address,
// once it has proved to be that user, or a new one with the password the
// invitee chose. A user created, replaced or removed since proveInvitee
// read it is a conflict: the proof was about another state.
func (m *Manager) invitee(ctx context.Context, tx smartlic.Tx, inv smartlic.Invitation, p inviteeProof) (smartlic.User, error) {
	u, err := tx.GetUser(ctx, inv.Email)
	switch {
	case err == nil:
		if u.ID != p.userID {
			return u, errInvitationConflict(inv.Email)
		}
		if u.Disabled || !p.vouched {
			return u, smartlic.Errorf(smartlic.EUnauthorized, "password",
				"%s already has an account: sign in and accept, or give its current password (an invitation never changes it)", inv.Email)
		}
		return u, nil
	case smartlic.ErrorCode(err) != smartlic.ENotFound:
		return u, err
	}
	if p.userID != "" || p.hash == "" {
		return u, errInvitationConflict(inv.Email)
	}
	u = smartlic.User{ID: newID(), Email: inv.Email, Name: p.name, PasswordHash: p.hash, CreatedAt: m.clock.Now()}
	if err := tx.InsertUser(ctx, u); err != nil {
		return u, err
	}
	ctx = smartlic.WithActor(ctx, smartlic.Actor{KeyID: inv.ID, Email: u.Email, Role: "user", UserID: u.ID})
	return u, m.record(ctx, tx, smartlic.Event{Type: "user.created", Subject: u.ID, Message: "user " + u.Email + " created by accepting an invitation", After: eventData(u)})
}

// errInvitationConflict says the address's account changed while the
// invitation was being accepted; accepting again works from the new state.
func errInvitationConflict(email string) error {
	return smartlic.Errorf(smartlic.EConflict, "code", "the account of %s changed while the invitation was accepted; try again", email)
}

// grantInvited stores the invited role; a role the user already holds
// there is simply kept.
func (m *Manager) grantInvited(ctx context.Context, tx smartlic.Tx, inv smartlic.Invitation, u smartlic.User) (smartlic.RoleAssignment, error) {
	r := smartlic.RoleAssignment{ID: newID(), UserID: u.ID, UserEmail: u.Email, Role: inv.Role, SmartAccountID: inv.SmartAccountID,
		VirtualAccountID: inv.VirtualAccountID, CreatedAt: m.clock.Now()}
	// Looked up first rather than read from a unique violation: PostgreSQL
	// ends the transaction at a failed statement.
	roles, err := tx.RolesOfUser(ctx, u.ID)
	if err != nil {
		return r, err
	}
	for _, held := range roles {
		if held.SmartAccountID == r.SmartAccountID && held.Role == r.Role && held.VirtualAccountID == r.VirtualAccountID {
			return held, nil
		}
	}
	if err := tx.InsertRole(ctx, r); err != nil {
		return r, err
	}
	return r, m.record(ctx, tx, smartlic.Event{Type: "role.granted", SmartAccountID: r.SmartAccountID, VirtualAccountID: r.VirtualAccountID,
		Subject: r.ID, Message: u.Email + " granted " + r.Role + " by invitation", After: eventData(r)})
}
