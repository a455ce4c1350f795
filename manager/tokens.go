package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/smartlic/smartlic"
)

// tokenPrefix marks registration tokens.
const tokenPrefix = "slt_"

// CreateToken makes a registration token for a VA. The secret is in the
// answer and nowhere else: only its hash is stored.
func (m *Manager) CreateToken(ctx context.Context, saKey, vaKey string, in smartlic.TokenInput) (t smartlic.Token, err error) {
	life := time.Duration(in.ExpiresInDays) * smartlic.Day
	switch {
	case in.ExpiresInMinutes != 0 && in.ExpiresInDays != 0:
		return t, smartlic.Invalid("expires_in_minutes", "give expires_in_days or expires_in_minutes, not both")
	case in.ExpiresInMinutes != 0:
		if in.ExpiresInMinutes < 1 || in.ExpiresInMinutes > smartlic.MaxTokenMinutes {
			return t, smartlic.Invalid("expires_in_minutes", "must be between 1 and %d (got %d)", smartlic.MaxTokenMinutes, in.ExpiresInMinutes)
		}
		life = time.Duration(in.ExpiresInMinutes) * time.Minute
	case in.ExpiresInDays < smartlic.MinTokenDays || in.ExpiresInDays > smartlic.MaxTokenDays:
		return t, smartlic.Invalid("expires_in_days", "must be between %d and %d (got %d)", smartlic.MinTokenDays, smartlic.MaxTokenDays, in.ExpiresInDays)
	}
	if in.MaxUses != nil && (*in.MaxUses < 1 || *in.MaxUses > 1_000_000) {
		return t, smartlic.Invalid("max_uses", "must be between 1 and 1000000 when set (got %d)", *in.MaxUses)
	}
	// A token without a description is a live secret nobody can later
	// recognise in a list, to revoke or to trust.
	if err := smartlic.ValidateName("description", in.Description, 200); err != nil {
		return t, err
	}
	secret, err := newSecret(tokenPrefix)
	if err != nil {
		return t, err
	}
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, va, err := m.getVAAs(ctx, tx, PermLicenseManage, saKey, vaKey)
		if err != nil {
			return err
		}
		if sa.Status != smartlic.SAActive {
			return smartlic.Errorf(smartlic.EConflict, "sa", "Smart Account %s is awaiting approval; tokens can be created once it is active", sa.Domain)
		}
		t = smartlic.Token{
			ID: newID(), VirtualAccountID: va.ID, Description: in.Description,
			ExpiresAt: now.Add(life),
			MaxUses:   in.MaxUses, AllowExportControlled: in.AllowExportControlled,
			CreatedAt: now, Hash: hashSecret(secret),
		}
		if err := tx.InsertToken(ctx, t); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "token.created", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: t.ID,
			Message: fmt.Sprintf("registration token %q created for %q, expires %s", t.Description, va.Name, t.ExpiresAt.Format(time.DateOnly)), After: eventData(t)})
	})
	t.Secret = secret
	if err != nil {
		return smartlic.Token{}, err
	}
	return t, nil
}

// GetToken shows a token of a VA (never its secret).
func (m *Manager) GetToken(ctx context.Context, saKey, vaKey, id string) (t smartlic.Token, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		t, err = m.getTokenIn(ctx, tx, PermLicenseView, saKey, vaKey, id)
		return err
	})
	return t, err
}

// ListTokens lists a VA's tokens.
func (m *Manager) ListTokens(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Token, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.Token
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, va, err := m.getVAAs(ctx, tx, PermLicenseView, saKey, vaKey)
		if err != nil {
			return err
		}
		out, err = tx.ListTokens(ctx, va.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(t smartlic.Token) string { return t.ID })
	return out, next, err
}

// RevokeToken stops a token from registering anything more. Instances it
// already registered stay registered. Revoking twice is harmless.
func (m *Manager) RevokeToken(ctx context.Context, saKey, vaKey, id string) (t smartlic.Token, err error) {
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if t, err = m.getTokenIn(ctx, tx, PermLicenseManage, saKey, vaKey, id); err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return nil
		}
		if err := tx.RevokeToken(ctx, t.ID, now); err != nil {
			return err
		}
		before := t
		t.RevokedAt = &now
		va, err := tx.GetVirtualAccountByID(ctx, t.VirtualAccountID)
		if err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "token.revoked", SmartAccountID: va.SmartAccountID, VirtualAccountID: va.ID, Subject: t.ID,
			Message: fmt.Sprintf("registration token %q revoked", t.Description), Before: eventData(before), After: eventData(t)})
	})
	return t, err
}

// getTokenIn finds a token of the VA vaKey, or with an empty vaKey of any
// VA of the Smart Account (ids are unique, so the caller need not know
// which), and checks perm on the token's VA.
func (m *Manager) getTokenIn(ctx context.Context, tx smartlic.Tx, perm Permission, saKey, vaKey, id string) (smartlic.Token, error) {
	if vaKey == "" {
		return m.getTokenInAccount(ctx, tx, perm, saKey, id)
	}
	_, va, err := m.getVAAs(ctx, tx, perm, saKey, vaKey)
	if err != nil {
		return smartlic.Token{}, err
	}
	t, err := tx.GetToken(ctx, id)
	if err == nil && t.VirtualAccountID != va.ID {
		err = smartlic.NotFound("token %q not found in Virtual Account %q", id, va.Name)
	}
	return t, err
}

func (m *Manager) getTokenInAccount(ctx context.Context, tx smartlic.Tx, perm Permission, saKey, id string) (smartlic.Token, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return smartlic.Token{}, err
	}
	notFound := smartlic.NotFound("token %q not found in Smart Account %s", id, sa.Domain)
	t, err := tx.GetToken(ctx, id)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return t, notFound
	}
	if err != nil {
		return t, err
	}
	va, err := tx.GetVirtualAccountByID(ctx, t.VirtualAccountID)
	if err != nil {
		return t, err
	}
	if va.SmartAccountID != sa.ID {
		return smartlic.Token{}, notFound
	}
	return t, m.authorize(ctx, tx, perm, &sa, &va)
}
