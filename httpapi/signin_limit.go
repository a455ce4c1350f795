package httpapi

import (
	"net/http"
	"strings"
)

// LimitSignIn spends one sign-in attempt of the client that sent r for
// the e-mail it names, from the same budget as POST /api/v1/auth/login:
// the portal's sign-in form is another door to the same passwords, and a
// guesser must not get a second allowance by using it. The caller reports
// the outcome with done (only failures count); the error is coded
// rate_limited and says when to try again.
func (s *Server) LimitSignIn(r *http.Request, email string) (done func(success bool), err error) {
	ctx := withClientIP(r.Context(), r.RemoteAddr)
	return s.limit(ctx, "login", strings.ToLower(strings.TrimSpace(email)))
}
