package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type identityPath struct {
	Identity string `path:"identity" doc:"Identity binding id"`
}

// registerIdentityRoutes adds the caller's single sign-on bindings: which
// accounts at OpenID providers sign in as this user. Signing in with a
// provider happens in the portal (/login/oidc), where a browser is.
func (s *Server) registerIdentityRoutes() {
	svc := s.svc
	const ids = "/api/v1/me/identities"
	handle(s, route{method: get, path: ids, id: "list-identities", tag: "users",
		summary: "List your single sign-on bindings (issuer and subject at an OpenID provider)"},
		func(ctx context.Context, _ *struct{}) (*body[wire.Items[smartlic.UserIdentity]], error) {
			return all(svc.ListIdentities(ctx))
		})
	handle(s, route{method: del, path: ids + "/{identity}", id: "unlink-identity", tag: "users", status: http.StatusNoContent,
		summary: "Unlink a single sign-on binding: the next sign-in with that provider binds again by verified e-mail"},
		func(ctx context.Context, in *identityPath) (*struct{}, error) {
			_, err := svc.UnlinkIdentity(ctx, in.Identity)
			return nil, err
		})
}
