package smartlic

import "context"

// SetupService tells a fresh installation from one in use, so that the
// server's banner and the portal's sign-in page can tell a newcomer how to
// begin instead of showing a sign-in form nobody can use.
type SetupService interface {
	// HasUsers reports whether any user exists. It needs no credentials:
	// the one bit it reveals is what the sign-in page shows anyway.
	HasUsers(ctx context.Context) (bool, error)
}
