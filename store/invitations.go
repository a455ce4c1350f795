package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/smartlic/smartlic"
)

const invitationCols = `id, email, smart_account_id, role, va_id, invited_by, inviter_user_id, code_hash, created_at, expires_at, accepted_at, accepted_by, revoked_at`

// invitationSelect reads an invitation with its VA's name, for people.
const invitationSelect = `SELECT i.id, i.email, i.smart_account_id, i.role, i.va_id, i.invited_by, i.inviter_user_id, i.code_hash,
	i.created_at, i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at, v.name
	FROM invitations i LEFT JOIN virtual_accounts v ON v.id = i.va_id`

func (t *tx) InsertInvitation(ctx context.Context, inv smartlic.Invitation) error {
	_, err := t.execBuilt(ctx, `INSERT INTO invitations (`+invitationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.Email, inv.SmartAccountID, inv.Role, nullString(inv.VirtualAccountID), inv.InvitedBy, nullString(inv.InviterUserID),
		inv.CodeHash, micros(inv.CreatedAt), micros(inv.ExpiresAt), nullMicros(inv.AcceptedAt), nullString(inv.AcceptedBy), nullMicros(inv.RevokedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an invitation", noun: "invitation", field: "code", id: inv.ID, refs: "a Smart Account or user"})
	}
	return nil
}

func (t *tx) GetInvitation(ctx context.Context, id string) (smartlic.Invitation, error) {
	return one(t.queryRowBuilt(ctx, invitationSelect+` WHERE i.id = ?`, id), scanInvitation,
		"reading an invitation", func() error { return smartlic.NotFound("invitation %q not found", id) })
}

func (t *tx) GetInvitationByHash(ctx context.Context, hash string) (smartlic.Invitation, error) {
	return one(t.queryRowBuilt(ctx, invitationSelect+` WHERE i.code_hash = ?`, hash), scanInvitation,
		"reading an invitation", func() error { return smartlic.NotFound("invitation not found") })
}

func (t *tx) ListInvitations(ctx context.Context, saID string, p smartlic.Page) ([]smartlic.Invitation, error) {
	rows, err := t.queryBuilt(ctx, invitationSelect+` WHERE i.smart_account_id = ? AND i.id > ? ORDER BY i.id LIMIT ?`,
		saID, p.After, limit(p))
	return collect(rows, err, scanInvitation, "listing invitations")
}

func (t *tx) ClaimInvitation(ctx context.Context, id, userID string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE invitations SET accepted_at = ?, accepted_by = ?
		WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, micros(at), userID, id, micros(at))
	return t.pendingRow(res, err, about{what: "accepting an invitation", noun: "invitation", id: id, refs: "a user"})
}

func (t *tx) RevokeInvitation(ctx context.Context, id string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, micros(at), id)
	return t.pendingRow(res, err, about{what: "revoking an invitation", noun: "invitation", id: id})
}

// pendingRow is oneRow for a conditional UPDATE of a pending invitation:
// no row means it was used, revoked or expired meanwhile.
func (t *tx) pendingRow(res sql.Result, err error, a about) error {
	if err := t.oneRow(res, err, a); smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.Errorf(smartlic.EConflict, "", "invitation %q is no longer pending", a.id)
	} else if err != nil {
		return err
	}
	return nil
}

func scanInvitation(r scanner) (smartlic.Invitation, error) {
	var i smartlic.Invitation
	var va, inviter, acceptedBy, vaName sql.NullString
	var created, expires int64
	var accepted, revoked sql.NullInt64
	err := r.Scan(&i.ID, &i.Email, &i.SmartAccountID, &i.Role, &va, &i.InvitedBy, &inviter, &i.CodeHash, &created, &expires, &accepted, &acceptedBy, &revoked, &vaName)
	i.VirtualAccountID, i.InviterUserID, i.AcceptedBy, i.VirtualAccount = va.String, inviter.String, acceptedBy.String, vaName.String
	i.CreatedAt, i.ExpiresAt, i.AcceptedAt, i.RevokedAt = fromMicros(created), fromMicros(expires), fromNullMicros(accepted), fromNullMicros(revoked)
	return i, err
}
