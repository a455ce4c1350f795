package manager

import (
	"context"
	"slices"

	"github.com/smartlic/smartlic"
)

// maxPreferences bounds the recipients of one Smart Account.
const maxPreferences = 1000

// SetNotificationPreference creates or replaces the preference of one
// recipient in a Smart Account. VAs are given by id or name and stored by
// id, so renaming a VA keeps the preference.
func (m *Manager) SetNotificationPreference(ctx context.Context, saKey string, in smartlic.NotificationPreferenceInput) (p smartlic.NotificationPreference, err error) {
	email, err := smartlic.NormalizeEmail("email", in.Email)
	if err != nil {
		return p, err
	}
	if err := in.Validate(); err != nil {
		return p, err
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermNotifyManage, saKey)
		if err != nil {
			return err
		}
		existing, err := tx.ListNotificationPreferences(ctx, sa.ID)
		if err != nil {
			return err
		}
		if len(existing) >= maxPreferences && !slices.ContainsFunc(existing, func(p smartlic.NotificationPreference) bool { return p.Email == email }) {
			return smartlic.Errorf(smartlic.EConflict, "email", "Smart Account %s already notifies %d recipients, the most it may; delete one first", sa.Domain, maxPreferences)
		}
		vaIDs := []string{}
		for _, key := range in.VirtualAccounts {
			va, err := getVAIn(ctx, tx, sa, key, "virtual_accounts")
			if err != nil {
				return err
			}
			if !slices.Contains(vaIDs, va.ID) {
				vaIDs = append(vaIDs, va.ID)
			}
		}
		now := m.clock.Now()
		p, err = tx.UpsertNotificationPreference(ctx, smartlic.NotificationPreference{
			ID: newID(), SmartAccountID: sa.ID, Email: email, AlertTypes: dedupTypes(in.AlertTypes),
			VirtualAccounts: vaIDs, Frequency: in.Frequency, CreatedAt: now, UpdatedAt: now,
		})
		if err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{SmartAccountID: sa.ID, Type: "notification_preference.set", Subject: p.ID,
			Message: "notification preference of " + email + " set to " + string(p.Frequency), After: eventData(p)})
	})
	return p, err
}

// ListNotificationPreferences lists a Smart Account's recipients.
func (m *Manager) ListNotificationPreferences(ctx context.Context, saKey string) (out []smartlic.NotificationPreference, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermNotifyManage, saKey)
		if err != nil {
			return err
		}
		out, err = tx.ListNotificationPreferences(ctx, sa.ID)
		return err
	})
	return out, err
}

// DeleteNotificationPreference stops notifications to one recipient.
func (m *Manager) DeleteNotificationPreference(ctx context.Context, saKey, email string) error {
	addr, err := smartlic.NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermNotifyManage, saKey)
		if err != nil {
			return err
		}
		if err := tx.DeleteNotificationPreference(ctx, sa.ID, addr); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{SmartAccountID: sa.ID, Type: "notification_preference.deleted", Subject: addr,
			Message: "notification preference of " + addr + " deleted"})
	})
}
