package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type userPath struct {
	User string `path:"user" doc:"User id or e-mail"`
}

type rolesQuery struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	VA    string `query:"va" doc:"Only the roles granted on this Virtual Account (id or name)"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

type rolePath struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	Role string `path:"role" doc:"Role assignment id"`
}

type accessRequestPath struct {
	SA      string `path:"sa" doc:"Smart Account id or domain"`
	Request string `path:"request" doc:"Access request id"`
}

type approveInput struct {
	SA      string `path:"sa" doc:"Smart Account id or domain"`
	Request string `path:"request" doc:"Access request id"`
	Body    wire.ApproveRequest
}

type invitationPath struct {
	SA         string `path:"sa" doc:"Smart Account id or domain"`
	Invitation string `path:"invitation" doc:"Invitation id"`
}

type invitationOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         smartlic.Invitation
}

type apiKeyPath struct {
	Key string `path:"key" doc:"API key id"`
}

type vendorClientPath struct {
	Client string `path:"client" doc:"OAuth client id (internal or client_id)"`
}

type saClientPath struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	Client string `path:"client" doc:"OAuth client id (internal or client_id)"`
}

// tokenInput is the OAuth token request. RFC 6749 clients send a form
// (application/x-www-form-urlencoded) and may put their credentials in an
// HTTP Basic Authorization header; a JSON body is accepted too.
type tokenInput struct {
	ContentType   string `header:"Content-Type"`
	Authorization string `header:"Authorization" doc:"Basic base64(client_id:client_secret), instead of the body fields"`
	RawBody       []byte `contentType:"application/x-www-form-urlencoded" doc:"grant_type=client_credentials&client_id=…&client_secret=…&scope=…"`
}

type tokenOutput struct {
	CacheControl string `header:"Cache-Control"`
	Pragma       string `header:"Pragma"`
	Body         smartlic.TokenGrant
}

type loginOutput struct {
	SetCookie    http.Cookie `header:"Set-Cookie"`
	CacheControl string      `header:"Cache-Control"`
	Body         smartlic.Login
}

type logoutInput struct {
	Session http.Cookie `cookie:"smartlic_session"`
	CSRF    string      `header:"X-CSRF-Token" doc:"The session's CSRF token, from the login answer"`
}

// errCSRF refuses a change made with a session cookie but without the
// session's CSRF token.
func errCSRF() *smartlic.Error {
	return smartlic.Errorf(smartlic.EForbidden, CSRFHeader, "a signed-in session must send its CSRF token in the "+CSRFHeader+" header")
}

func csrfMatches(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

type logoutOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
}

func (s *Server) registerUserRoutes() {
	svc := s.svc

	const users, user = "/api/v1/users", "/api/v1/users/{user}"
	handle(s, route{method: post, path: users, id: "create-user", summary: "Create a user with a password (operator; administrators invite instead)", tag: "users", status: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body wire.UserRequest }) (*body[smartlic.User], error) {
			return one(svc.CreateUser(ctx, in.Body.Input()))
		})
	handle(s, route{method: get, path: users, id: "list-users", summary: "List every user (operator)", tag: "users"},
		func(ctx context.Context, in *pageQuery) (*body[wire.Page[smartlic.User]], error) {
			return page(svc.ListUsers(ctx, in.page()))
		})
	handle(s, route{method: get, path: user, id: "get-user", summary: "Get a user", tag: "users"},
		func(ctx context.Context, in *userPath) (*body[smartlic.User], error) {
			return one(svc.GetUser(ctx, in.User))
		})
	handle(s, route{method: post, path: user + "/disable", id: "disable-user", summary: "Disable a user: no more sign-ins, keys or sessions (operator)", tag: "users"},
		func(ctx context.Context, in *userPath) (*body[smartlic.User], error) {
			return one(svc.DisableUser(ctx, in.User))
		})
	handle(s, route{method: get, path: "/api/v1/me", id: "whoami", summary: "Who the caller is, and its roles", tag: "users"},
		func(ctx context.Context, _ *struct{}) (*body[smartlic.Identity], error) {
			return one(svc.WhoAmI(ctx))
		})

	// Roles and access requests of a Smart Account.
	const roles = "/api/v1/accounts/{sa}/roles"
	handle(s, route{method: get, path: roles, id: "list-roles", summary: "List the role assignments of a Smart Account (or of one Virtual Account)", tag: "users"},
		func(ctx context.Context, in *rolesQuery) (*body[wire.Page[smartlic.RoleAssignment]], error) {
			return page(svc.ListRoles(ctx, in.SA, in.VA, smartlic.Page{Limit: in.Limit, After: in.After}))
		})
	handle(s, route{method: post, path: roles, id: "grant-role", summary: "Grant a user a role", tag: "users", status: http.StatusCreated},
		func(ctx context.Context, in *saBody[wire.RoleRequest]) (*body[smartlic.RoleAssignment], error) {
			return one(svc.GrantRole(ctx, in.SA, in.Body.Input()))
		})
	handle(s, route{method: del, path: roles + "/{role}", id: "revoke-role", summary: "Revoke a role assignment", tag: "users", status: http.StatusNoContent},
		func(ctx context.Context, in *rolePath) (*struct{}, error) {
			return none(svc.RevokeRole(ctx, in.SA, in.Role))
		})

	// Invitations: how administrators bring people into their account.
	const invitations = "/api/v1/accounts/{sa}/invitations"
	handle(s, route{method: post, path: invitations, id: "invite-user", summary: "Invite an e-mail address into the Smart Account with a role (the code is in this answer only)", tag: "users", status: http.StatusCreated},
		func(ctx context.Context, in *saBody[wire.InvitationRequest]) (*invitationOutput, error) {
			inv, err := svc.InviteUser(ctx, in.SA, in.Body.Input())
			if err != nil {
				return nil, err
			}
			return &invitationOutput{CacheControl: "no-store", Body: inv}, nil
		})
	handle(s, route{method: get, path: invitations, id: "list-invitations", summary: "List a Smart Account's invitations", tag: "users"},
		func(ctx context.Context, in *saPage) (*body[wire.Page[smartlic.Invitation]], error) {
			return page(svc.ListInvitations(ctx, in.SA, in.page()))
		})
	handle(s, route{method: post, path: invitations + "/{invitation}/revoke", id: "revoke-invitation", summary: "Revoke a pending invitation", tag: "users"},
		func(ctx context.Context, in *invitationPath) (*body[smartlic.Invitation], error) {
			return one(svc.RevokeInvitation(ctx, in.SA, in.Invitation))
		})
	handle(s, route{method: post, path: "/api/v1/invitations/accept", id: "accept-invitation", tag: "users", public: true,
		summary: "Accept an invitation with its code: a new user sets its password, an existing one gives its current password",
		errors:  []int{http.StatusUnauthorized, http.StatusTooManyRequests}},
		func(ctx context.Context, in *struct{ Body wire.AcceptInvitationRequest }) (*body[smartlic.RoleAssignment], error) {
			// Limited per address like sign-in: a code is unguessable, but an
			// existing user's password is checked here too.
			done, err := s.limit(ctx, "invitation", "")
			if err != nil {
				return nil, err
			}
			r, err := svc.AcceptInvitation(ctx, in.Body.Input())
			done(err == nil)
			return one(r, err)
		})

	const requests = "/api/v1/accounts/{sa}/access-requests"
	handle(s, route{method: post, path: requests, id: "request-access", summary: "Ask for access to a Smart Account (users)", tag: "users", status: http.StatusCreated},
		func(ctx context.Context, in *saBody[wire.AccessRequestRequest]) (*body[smartlic.AccessRequest], error) {
			return one(svc.RequestAccess(ctx, in.SA, in.Body.Message))
		})
	handle(s, route{method: get, path: requests, id: "list-access-requests", summary: "List a Smart Account's access requests", tag: "users"},
		func(ctx context.Context, in *saPage) (*body[wire.Page[smartlic.AccessRequest]], error) {
			return page(svc.ListAccessRequests(ctx, in.SA, in.page()))
		})
	handle(s, route{method: post, path: requests + "/{request}/approve", id: "approve-access-request", summary: "Approve an access request, granting a role", tag: "users"},
		func(ctx context.Context, in *approveInput) (*body[smartlic.AccessRequest], error) {
			return one(svc.ApproveAccessRequest(ctx, in.SA, in.Request, in.Body.Input()))
		})
	handle(s, route{method: post, path: requests + "/{request}/deny", id: "deny-access-request", summary: "Deny an access request", tag: "users"},
		func(ctx context.Context, in *accessRequestPath) (*body[smartlic.AccessRequest], error) {
			return one(svc.DenyAccessRequest(ctx, in.SA, in.Request))
		})

	// Personal API keys.
	const keys = "/api/v1/me/api-keys"
	handle(s, route{method: post, path: keys, id: "create-api-key", summary: "Create a personal API key (its secret is in this answer only)", tag: "users", status: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body wire.APIKeyRequest }) (*body[smartlic.UserAPIKey], error) {
			return one(svc.CreateAPIKey(ctx, in.Body.Input()))
		})
	handle(s, route{method: get, path: keys, id: "list-api-keys", summary: "List your personal API keys", tag: "users"},
		func(ctx context.Context, in *pageQuery) (*body[wire.Page[smartlic.UserAPIKey]], error) {
			return page(svc.ListAPIKeys(ctx, in.page()))
		})
	handle(s, route{method: post, path: keys + "/{key}/revoke", id: "revoke-api-key", summary: "Revoke a personal API key", tag: "users"},
		func(ctx context.Context, in *apiKeyPath) (*body[smartlic.UserAPIKey], error) {
			return one(svc.RevokeAPIKey(ctx, in.Key))
		})

	// OAuth clients: the vendor's and each Smart Account's.
	const vendorClients = "/api/v1/oauth-clients"
	handle(s, route{method: post, path: vendorClients, id: "create-vendor-oauth-client", summary: "Create a vendor OAuth client (its secret is in this answer only)", tag: "oauth", status: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body wire.OAuthClientRequest }) (*body[smartlic.OAuthClient], error) {
			return one(svc.CreateOAuthClient(ctx, "", in.Body.Input()))
		})
	handle(s, route{method: get, path: vendorClients, id: "list-vendor-oauth-clients", summary: "List the vendor's OAuth clients", tag: "oauth"},
		func(ctx context.Context, in *pageQuery) (*body[wire.Page[smartlic.OAuthClient]], error) {
			return page(svc.ListOAuthClients(ctx, "", in.page()))
		})
	handle(s, route{method: post, path: vendorClients + "/{client}/revoke", id: "revoke-vendor-oauth-client", summary: "Revoke a vendor OAuth client", tag: "oauth"},
		func(ctx context.Context, in *vendorClientPath) (*body[smartlic.OAuthClient], error) {
			return one(svc.RevokeOAuthClient(ctx, "", in.Client))
		})
	const saClients = "/api/v1/accounts/{sa}/oauth-clients"
	handle(s, route{method: post, path: saClients, id: "create-oauth-client", summary: "Create a Smart Account's OAuth client (its secret is in this answer only)", tag: "oauth", status: http.StatusCreated},
		func(ctx context.Context, in *saBody[wire.OAuthClientRequest]) (*body[smartlic.OAuthClient], error) {
			return one(svc.CreateOAuthClient(ctx, in.SA, in.Body.Input()))
		})
	handle(s, route{method: get, path: saClients, id: "list-oauth-clients", summary: "List a Smart Account's OAuth clients", tag: "oauth"},
		func(ctx context.Context, in *saPage) (*body[wire.Page[smartlic.OAuthClient]], error) {
			return page(svc.ListOAuthClients(ctx, in.SA, in.page()))
		})
	handle(s, route{method: post, path: saClients + "/{client}/revoke", id: "revoke-oauth-client", summary: "Revoke a Smart Account's OAuth client", tag: "oauth"},
		func(ctx context.Context, in *saClientPath) (*body[smartlic.OAuthClient], error) {
			return one(svc.RevokeOAuthClient(ctx, in.SA, in.Client))
		})

	handle(s, route{method: post, path: "/api/v1/oauth/token", id: "oauth-token", tag: "oauth", public: true,
		summary: "OAuth 2.0 token endpoint (client_credentials grant, RFC 6749 §4.4)", errors: []int{http.StatusUnauthorized, http.StatusTooManyRequests}},
		func(ctx context.Context, in *tokenInput) (*tokenOutput, error) {
			req, err := parseTokenRequest(in)
			if err != nil {
				return nil, err
			}
			done, err := s.limit(ctx, "token", req.clientID)
			if err != nil {
				return nil, err
			}
			grant, err := svc.IssueToken(ctx, req.clientID, req.secret, req.scope)
			done(err == nil)
			if err != nil {
				return nil, err
			}
			return &tokenOutput{CacheControl: "no-store", Pragma: "no-cache", Body: grant}, nil
		})

	// Portal sessions.
	handle(s, route{method: post, path: "/api/v1/auth/login", id: "login", tag: "auth", public: true,
		summary: "Sign in: sets the session cookie and answers the CSRF token", errors: []int{http.StatusUnauthorized, http.StatusTooManyRequests}},
		func(ctx context.Context, in *struct{ Body wire.LoginRequest }) (*loginOutput, error) {
			done, err := s.limit(ctx, "login", strings.ToLower(strings.TrimSpace(in.Body.Email)))
			if err != nil {
				return nil, err
			}
			l, err := svc.Login(ctx, in.Body.Email, in.Body.Password)
			done(err == nil)
			if err != nil {
				return nil, err
			}
			return &loginOutput{SetCookie: http.Cookie{Name: SessionCookie, Value: l.Secret, Path: "/", Expires: l.ExpiresAt,
				Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}, CacheControl: "no-store", Body: l}, nil
		})
	// Logout is public so that a session already over can still clear its
	// cookie, but ending a live session needs its CSRF token like any other
	// change: otherwise any site could sign the user out.
	handle(s, route{method: post, path: "/api/v1/auth/logout", id: "logout", tag: "auth", public: true, status: http.StatusNoContent,
		summary: "Sign out: ends the session of the cookie (X-CSRF-Token required) and clears it", errors: []int{http.StatusForbidden}},
		func(ctx context.Context, in *logoutInput) (*logoutOutput, error) {
			if err := svc.Logout(ctx, in.Session.Value, in.CSRF); err != nil {
				if smartlic.ErrorCode(err) == smartlic.EForbidden {
					return nil, errCSRF()
				}
				return nil, err
			}
			return &logoutOutput{SetCookie: http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
				Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}}, nil
		})
}

type tokenRequest struct{ clientID, secret, scope string }

// parseTokenRequest reads a client-credentials request from a form or a
// JSON body, with the client's credentials in the body or in Basic auth.
func parseTokenRequest(in *tokenInput) (tokenRequest, error) {
	var r tokenRequest
	var grant string
	mt, _, _ := mime.ParseMediaType(in.ContentType)
	switch mt {
	case "application/x-www-form-urlencoded", "":
		v, err := url.ParseQuery(string(in.RawBody))
		if err != nil {
			return r, smartlic.Invalid("body", "is not a valid form")
		}
		grant, r.clientID, r.secret, r.scope = v.Get("grant_type"), v.Get("client_id"), v.Get("client_secret"), v.Get("scope")
	case "application/json":
		var b struct {
			GrantType    string `json:"grant_type"`
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
			Scope        string `json:"scope"`
		}
		if err := json.Unmarshal(in.RawBody, &b); err != nil {
			return r, smartlic.Invalid("body", "is not valid JSON")
		}
		grant, r.clientID, r.secret, r.scope = b.GrantType, b.ClientID, b.ClientSecret, b.Scope
	default:
		return r, smartlic.Errorf(smartlic.EUnsupportedMT, "", "the token endpoint takes application/x-www-form-urlencoded or application/json")
	}
	if grant != "client_credentials" {
		return r, smartlic.Invalid("grant_type", "must be client_credentials (got %q)", grant)
	}
	if in.Authorization != "" {
		req := http.Request{Header: http.Header{"Authorization": {in.Authorization}}}
		id, secret, ok := req.BasicAuth()
		if !ok {
			return r, smartlic.Errorf(smartlic.EUnauthorized, "", "Authorization must be Basic client_id:client_secret")
		}
		// RFC 6749 §2.3.1: the credentials are form-encoded before Basic encoding.
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
		if u, err := url.QueryUnescape(secret); err == nil {
			secret = u
		}
		r.clientID, r.secret = id, secret
	}
	if r.clientID == "" {
		return r, smartlic.Invalid("client_id", "is required")
	}
	return r, nil
}
