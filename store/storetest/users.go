package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunUsers runs the conformance tests of users, roles, access requests and
// credentials as subtests; open returns a new, empty store for each.
func RunUsers(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"Users", testUsers},
		{"Roles", testRoles},
		{"AccessRequests", testAccessRequests},
		{"UserAPIKeys", testUserAPIKeys},
		{"OAuthClients", testOAuthClients},
		{"Invitations", testInvitations},
		{"Sessions", testSessions},
	})
}

func (f *fixture) user(email string) smartlic.User {
	f.t.Helper()
	u := smartlic.User{ID: newID(f.t), Email: email, Name: "User " + email, PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertUser(ctx, u) })
	return u
}

func wantErrCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := smartlic.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want %q", err, got, code)
	}
}

func testUsers(t *testing.T, f *fixture) {
	u := f.user("jane@example.com")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		for _, key := range []string{u.ID, u.Email} {
			got, err := tx.GetUser(ctx, key)
			if err != nil {
				return err
			}
			if got != u {
				t.Errorf("GetUser(%q) = %+v, want %+v", key, got, u)
			}
		}
		_, err := tx.GetUser(ctx, "nobody@example.com")
		wantErrCode(t, err, smartlic.ENotFound)
		return nil
	})
	dup := u
	dup.ID = newID(t)
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertUser(ctx, dup) }), smartlic.EConflict)

	at := f.now.Add(time.Hour)
	u.Disabled, u.DisabledAt, u.Name = true, &at, "Jane"
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateUser(ctx, u) })
	v := f.user("vic@example.com")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if !got.Disabled || !got.DisabledAt.Equal(at) || got.Name != "Jane" {
			t.Errorf("after update: %+v", got)
		}
		list, err := tx.ListUsers(ctx, smartlic.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != u.ID {
			t.Errorf("ListUsers page 1 = %+v", list)
		}
		list, err = tx.ListUsers(ctx, smartlic.Page{Limit: 10, After: u.ID})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != v.ID {
			t.Errorf("ListUsers page 2 = %+v", list)
		}
		return nil
	})
	missing := smartlic.User{ID: newID(t), Email: "x@example.com"}
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateUser(ctx, missing) }), smartlic.ENotFound)
}

func testRoles(t *testing.T, f *fixture) {
	sa, def := f.account("acme.example")
	other, _ := f.account("other.example")
	eng := f.virtualAccount(sa, nil, "Engineering")
	u := f.user("jane@example.com")
	saRole := smartlic.RoleAssignment{ID: newID(t), UserID: u.ID, UserEmail: u.Email, Role: smartlic.RoleSAUser, SmartAccountID: sa.ID, CreatedAt: f.now}
	vaRole := smartlic.RoleAssignment{ID: newID(t), UserID: u.ID, UserEmail: u.Email, Role: smartlic.RoleVAAdmin, SmartAccountID: sa.ID, VirtualAccountID: eng.ID, VirtualAccount: eng.Name, CreatedAt: f.now}
	otherRole := smartlic.RoleAssignment{ID: newID(t), UserID: u.ID, UserEmail: u.Email, Role: smartlic.RoleSAAdmin, SmartAccountID: other.ID, CreatedAt: f.now}
	for _, r := range []smartlic.RoleAssignment{saRole, vaRole, otherRole} {
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertRole(ctx, r) })
	}
	// The same role twice is a conflict, for SA roles (no VA) too.
	for _, r := range []smartlic.RoleAssignment{saRole, vaRole} {
		r.ID = newID(t)
		wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertRole(ctx, r) }), smartlic.EConflict)
	}
	// The same role on another VA is not.
	onDefault := vaRole
	onDefault.ID, onDefault.VirtualAccountID, onDefault.VirtualAccount = newID(t), def.ID, def.Name
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertRole(ctx, onDefault) })
	// A role of a user that does not exist refers to nothing.
	ghost := saRole
	ghost.ID, ghost.UserID = newID(t), newID(t)
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertRole(ctx, ghost) }), smartlic.ENotFound)

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetRole(ctx, vaRole.ID)
		if err != nil {
			return err
		}
		if got != vaRole {
			t.Errorf("GetRole = %+v, want %+v", got, vaRole)
		}
		all, err := tx.RolesOfUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(all) != 4 {
			t.Errorf("RolesOfUser = %d roles, want 4", len(all))
		}
		inSA, err := tx.ListRoles(ctx, sa.ID, "", smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(inSA) != 3 {
			t.Errorf("ListRoles(sa) = %+v, want 3", inSA)
		}
		inEng, err := tx.ListRoles(ctx, sa.ID, eng.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(inEng) != 1 || inEng[0].ID != vaRole.ID {
			t.Errorf("ListRoles(eng) = %+v", inEng)
		}
		sas, err := tx.UserSmartAccounts(ctx, u.ID)
		if err != nil {
			return err
		}
		want := []string{sa.ID, other.ID}
		slices.Sort(want)
		if !slices.Equal(sas, want) {
			t.Errorf("UserSmartAccounts = %v, want %v", sas, want)
		}
		return nil
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteRole(ctx, saRole.ID) })
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteRole(ctx, saRole.ID) }), smartlic.ENotFound)
	// Deleting a VA takes the roles granted on it along.
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteVirtualAccount(ctx, eng.ID) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetRole(ctx, vaRole.ID)
		wantErrCode(t, err, smartlic.ENotFound)
		return nil
	})
}

func testAccessRequests(t *testing.T, f *fixture) {
	sa, _ := f.account("acme.example")
	u := f.user("jane@example.com")
	r := smartlic.AccessRequest{ID: newID(t), UserID: u.ID, UserEmail: u.Email, SmartAccountID: sa.ID, Message: "please", Status: smartlic.AccessPending, CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAccessRequest(ctx, r) })
	at := f.now.Add(time.Minute)
	r.Status, r.DecidedBy, r.DecidedAt = smartlic.AccessApproved, "admin@acme.example", &at
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateAccessRequest(ctx, r) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetAccessRequest(ctx, r.ID)
		if err != nil {
			return err
		}
		if got.Status != r.Status || got.DecidedBy != r.DecidedBy || !got.DecidedAt.Equal(at) || got.UserEmail != u.Email || got.Message != "please" {
			t.Errorf("GetAccessRequest = %+v, want %+v", got, r)
		}
		list, err := tx.ListAccessRequests(ctx, sa.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != r.ID {
			t.Errorf("ListAccessRequests = %+v", list)
		}
		_, err = tx.GetAccessRequest(ctx, newID(t))
		wantErrCode(t, err, smartlic.ENotFound)
		return nil
	})
}

func testUserAPIKeys(t *testing.T, f *fixture) {
	u := f.user("jane@example.com")
	exp := f.now.Add(24 * time.Hour)
	k := smartlic.UserAPIKey{ID: newID(t), UserID: u.ID, Name: "ci", Hash: "h1", CreatedAt: f.now, ExpiresAt: &exp}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertUserAPIKey(ctx, k) })
	dup := k
	dup.ID = newID(t)
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertUserAPIKey(ctx, dup) }), smartlic.EConflict)
	used, revoked := f.now.Add(time.Minute), f.now.Add(time.Hour)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.TouchUserAPIKey(ctx, k.ID, used); err != nil {
			return err
		}
		if err := tx.RevokeUserAPIKey(ctx, k.ID, revoked); err != nil {
			return err
		}
		return tx.RevokeUserAPIKey(ctx, k.ID, revoked.Add(time.Hour)) // keeps the first time
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetUserAPIKeyByHash(ctx, "h1")
		if err != nil {
			return err
		}
		if got.ID != k.ID || !got.ExpiresAt.Equal(exp) || !got.LastUsedAt.Equal(used) || !got.RevokedAt.Equal(revoked) {
			t.Errorf("GetUserAPIKeyByHash = %+v", got)
		}
		list, err := tx.ListUserAPIKeys(ctx, u.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 1 {
			t.Errorf("ListUserAPIKeys = %+v", list)
		}
		_, err = tx.GetUserAPIKeyByHash(ctx, "h2")
		wantErrCode(t, err, smartlic.ENotFound)
		return nil
	})
}

func testOAuthClients(t *testing.T, f *fixture) {
	sa, _ := f.account("acme.example")
	creator := f.user("a@acme.example")
	c := smartlic.OAuthClient{ID: newID(t), ClientID: "slc_one", Name: "erp", SmartAccountID: sa.ID, Role: smartlic.RoleSAUser,
		Scopes: []string{"read", "write"}, SecretHash: "s1", CreatedBy: creator.Email, CreatorUserID: creator.ID, CreatedAt: f.now}
	vendor := smartlic.OAuthClient{ID: newID(t), ClientID: "slc_two", Name: "billing", Role: smartlic.RoleOperator,
		Scopes: []string{"read"}, SecretHash: "s2", CreatedBy: "ops@vendor.example", CreatedAt: f.now}
	for _, x := range []smartlic.OAuthClient{c, vendor} {
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertOAuthClient(ctx, x) })
	}
	orphan := c
	orphan.ID, orphan.ClientID, orphan.CreatorUserID = newID(t), "slc_orphan", newID(t)
	if err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertOAuthClient(ctx, orphan) }); smartlic.ErrorCode(err) == "" {
		t.Error("a client whose creator is no user was stored")
	}
	tok := smartlic.OAuthToken{ID: newID(t), ClientID: c.ID, Hash: "t1", Scopes: []string{"read"}, CreatedAt: f.now, ExpiresAt: f.now.Add(time.Hour)}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.InsertOAuthToken(ctx, tok); err != nil {
			return err
		}
		return tx.RevokeOAuthClient(ctx, c.ID, f.now)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		for _, key := range []string{c.ID, c.ClientID} {
			got, err := tx.GetOAuthClient(ctx, key)
			if err != nil {
				return err
			}
			if got.ID != c.ID || !slices.Equal(got.Scopes, c.Scopes) || got.RevokedAt == nil || got.SmartAccountID != sa.ID || got.SecretHash != "s1" ||
				got.CreatorUserID != creator.ID {
				t.Errorf("GetOAuthClient(%q) = %+v", key, got)
			}
		}
		list, err := tx.ListOAuthClients(ctx, sa.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != c.ID {
			t.Errorf("ListOAuthClients(sa) = %+v", list)
		}
		list, err = tx.ListOAuthClients(ctx, "", smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != vendor.ID || list[0].CreatorUserID != "" {
			t.Errorf("ListOAuthClients(vendor) = %+v", list)
		}
		got, err := tx.GetOAuthTokenByHash(ctx, "t1")
		if err != nil {
			return err
		}
		if got.ClientID != c.ID || !got.ExpiresAt.Equal(tok.ExpiresAt) || !slices.Equal(got.Scopes, tok.Scopes) {
			t.Errorf("GetOAuthTokenByHash = %+v", got)
		}
		return nil
	})
}

func testSessions(t *testing.T, f *fixture) {
	u := f.user("jane@example.com")
	s := smartlic.Session{ID: newID(t), Hash: "sh", UserID: u.ID, CSRFToken: "csrf", CreatedAt: f.now, LastSeenAt: f.now, ExpiresAt: f.now.Add(time.Hour)}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertSession(ctx, s) })
	seen := f.now.Add(time.Minute)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.TouchSession(ctx, s.ID, seen) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetSessionByHash(ctx, "sh")
		if err != nil {
			return err
		}
		s.LastSeenAt = seen
		if got != s {
			t.Errorf("GetSessionByHash = %+v, want %+v", got, s)
		}
		return nil
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteSession(ctx, s.ID) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetSessionByHash(ctx, "sh")
		wantErrCode(t, err, smartlic.ENotFound)
		return nil
	})

	// The operator's sessions: the same life, bound to an operator key.
	k := smartlic.APIKey{ID: newID(t), Email: "ops@vendor.example", Role: smartlic.RoleOperator, Hash: "kh", CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAPIKey(ctx, k) })
	op := smartlic.Session{ID: newID(t), Hash: "oh", OperatorKeyID: k.ID, CSRFToken: "c2", CreatedAt: f.now, LastSeenAt: f.now, ExpiresAt: f.now.Add(time.Hour)}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertOperatorSession(ctx, op) })
	orphan := op
	orphan.ID, orphan.Hash, orphan.OperatorKeyID = newID(t), "oh2", "no-such-key"
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertOperatorSession(ctx, orphan) }), smartlic.ENotFound)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.TouchOperatorSession(ctx, op.ID, seen) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, key, err := tx.GetOperatorSessionByHash(ctx, "oh")
		if err != nil {
			return err
		}
		op.LastSeenAt = seen
		if got != op || key.ID != k.ID || key.Email != k.Email || key.Role != k.Role {
			t.Errorf("GetOperatorSessionByHash = %+v, %+v; want %+v with key %s", got, key, op, k.ID)
		}
		_, _, err = tx.GetOperatorSessionByHash(ctx, "sh") // a user's session is not an operator's
		wantErrCode(t, err, smartlic.ENotFound)
		return nil
	})

	// ForgetSessions: expired and idle ones of both kinds go, live ones stay.
	live := smartlic.Session{ID: newID(t), Hash: "live", UserID: u.ID, CSRFToken: "c", CreatedAt: f.now, LastSeenAt: f.now.Add(time.Hour), ExpiresAt: f.now.Add(3 * time.Hour)}
	dead := smartlic.Session{ID: newID(t), Hash: "dead", UserID: u.ID, CSRFToken: "c", CreatedAt: f.now, LastSeenAt: f.now, ExpiresAt: f.now.Add(3 * time.Hour)}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.InsertSession(ctx, live); err != nil {
			return err
		}
		return tx.InsertSession(ctx, dead)
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		n, err := tx.ForgetSessions(ctx, f.now.Add(2*time.Hour), f.now.Add(30*time.Minute), 100)
		if err == nil && n != 2 {
			t.Errorf("ForgetSessions deleted %d, want the idle user session and the operator's", n)
		}
		return err
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetSessionByHash(ctx, "live"); err != nil {
			t.Errorf("the live session was forgotten: %v", err)
		}
		_, err := tx.GetSessionByHash(ctx, "dead")
		wantErrCode(t, err, smartlic.ENotFound)
		_, _, err = tx.GetOperatorSessionByHash(ctx, "oh")
		wantErrCode(t, err, smartlic.ENotFound)
		return nil
	})
}

func testInvitations(t *testing.T, f *fixture) {
	sa, defaultVA := f.account("acme.example")
	inviter, invitee := f.user("admin@acme.example"), f.user("new@acme.example")
	inv := smartlic.Invitation{ID: newID(t), Email: invitee.Email, SmartAccountID: sa.ID, Role: smartlic.RoleSAUser, InvitedBy: inviter.Email,
		InviterUserID: inviter.ID, CodeHash: "h1", CreatedAt: f.now, ExpiresAt: f.now.Add(smartlic.InvitationTTL)}
	other := inv
	other.ID, other.CodeHash, other.InviterUserID = newID(t), "h2", ""
	other.Role, other.VirtualAccountID = smartlic.RoleVAUser, defaultVA.ID
	for _, x := range []smartlic.Invitation{inv, other} {
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInvitation(ctx, x) })
	}
	dup := inv
	dup.ID = newID(t)
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInvitation(ctx, dup) }), smartlic.EConflict)

	// A claim succeeds once, and never past the expiry or after a revocation.
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.ClaimInvitation(ctx, inv.ID, invitee.ID, inv.ExpiresAt)
	}), smartlic.EConflict)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.ClaimInvitation(ctx, inv.ID, invitee.ID, f.now)
	})
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.ClaimInvitation(ctx, inv.ID, invitee.ID, f.now)
	}), smartlic.EConflict)
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.RevokeInvitation(ctx, inv.ID, f.now) }), smartlic.EConflict)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.RevokeInvitation(ctx, other.ID, f.now) })
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.ClaimInvitation(ctx, other.ID, invitee.ID, f.now)
	}), smartlic.EConflict)

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetInvitationByHash(ctx, "h1")
		if err != nil {
			return err
		}
		if got.ID != inv.ID || got.AcceptedBy != invitee.ID || got.AcceptedAt == nil || got.RevokedAt != nil || got.InviterUserID != inviter.ID ||
			!got.ExpiresAt.Equal(inv.ExpiresAt) || got.StateAt(f.now) != smartlic.InvitationAccepted {
			t.Errorf("GetInvitationByHash = %+v", got)
		}
		if got, err = tx.GetInvitation(ctx, other.ID); err != nil {
			return err
		}
		// A VA invitation reads with its VA's name, for people.
		if got.StateAt(f.now) != smartlic.InvitationRevoked || got.InviterUserID != "" || got.AcceptedBy != "" ||
			got.VirtualAccountID != defaultVA.ID || got.VirtualAccount != defaultVA.Name {
			t.Errorf("GetInvitation(revoked) = %+v", got)
		}
		_, err = tx.GetInvitationByHash(ctx, "nope")
		wantErrCode(t, err, smartlic.ENotFound)
		list, err := tx.ListInvitations(ctx, sa.ID, smartlic.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != inv.ID {
			t.Errorf("ListInvitations page 1 = %+v", list)
		}
		list, err = tx.ListInvitations(ctx, sa.ID, smartlic.Page{Limit: 10, After: inv.ID})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != other.ID || list[0].VirtualAccount != defaultVA.Name {
			t.Errorf("ListInvitations page 2 = %+v", list)
		}
		return nil
	})
}
