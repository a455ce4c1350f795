package manager

import (
	"context"

	"github.com/smartlic/smartlic"
)

var _ smartlic.SetupService = (*Manager)(nil)

// HasUsers reports whether any user exists.
func (m *Manager) HasUsers(ctx context.Context) (bool, error) {
	var any bool
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		us, err := tx.ListUsers(ctx, smartlic.Page{Limit: 1})
		any = len(us) > 0
		return err
	})
	return any, err
}
