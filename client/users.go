package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.UserService = (*Client)(nil)

const (
	users         = "api/v1/users"
	me            = "api/v1/me"
	vendorClients = "api/v1/oauth-clients"
	// sessionCookie is httpapi.SessionCookie (the client does not import the server).
	sessionCookie = "smartlic_session"
)

func (c *Client) CreateUser(ctx context.Context, in smartlic.UserInput) (smartlic.User, error) {
	return send[smartlic.User](ctx, c, http.MethodPost, wire.UserRequest{Email: in.Email, Name: in.Name, Password: in.Password}, users)
}

func (c *Client) GetUser(ctx context.Context, key string) (smartlic.User, error) {
	return get[smartlic.User](ctx, c, users, segment{"user", key})
}

func (c *Client) ListUsers(ctx context.Context, p smartlic.Page) ([]smartlic.User, string, error) {
	return list[smartlic.User](ctx, c, p, users)
}

func (c *Client) DisableUser(ctx context.Context, key string) (smartlic.User, error) {
	return send[smartlic.User](ctx, c, http.MethodPost, nil, users, segment{"user", key}, "disable")
}

func (c *Client) WhoAmI(ctx context.Context) (smartlic.Identity, error) {
	return get[smartlic.Identity](ctx, c, me)
}

func (c *Client) ListRoles(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.RoleAssignment, string, error) {
	q := pageQuery(p)
	if vaKey != "" {
		q.Set("va", vaKey)
	}
	var v wire.Page[smartlic.RoleAssignment]
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, accounts, sa(saKey), "roles")
	return v.Items, v.Next, err
}

func (c *Client) GrantRole(ctx context.Context, saKey string, in smartlic.RoleInput) (smartlic.RoleAssignment, error) {
	return send[smartlic.RoleAssignment](ctx, c, http.MethodPost, wire.RoleRequest{User: in.User, Role: in.Role, VA: in.VA}, accounts, sa(saKey), "roles")
}

func (c *Client) RevokeRole(ctx context.Context, saKey, id string) error {
	return c.remove(ctx, accounts, sa(saKey), "roles", segment{"role", id})
}

func (c *Client) RequestAccess(ctx context.Context, saKey, message string) (smartlic.AccessRequest, error) {
	return send[smartlic.AccessRequest](ctx, c, http.MethodPost, wire.AccessRequestRequest{Message: message}, accounts, sa(saKey), "access-requests")
}

func (c *Client) ListAccessRequests(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.AccessRequest, string, error) {
	return list[smartlic.AccessRequest](ctx, c, p, accounts, sa(saKey), "access-requests")
}

func (c *Client) ApproveAccessRequest(ctx context.Context, saKey, id string, in smartlic.RoleInput) (smartlic.AccessRequest, error) {
	return send[smartlic.AccessRequest](ctx, c, http.MethodPost, wire.ApproveRequest{Role: in.Role, VA: in.VA},
		accounts, sa(saKey), "access-requests", segment{"access_request", id}, "approve")
}

func (c *Client) DenyAccessRequest(ctx context.Context, saKey, id string) (smartlic.AccessRequest, error) {
	return send[smartlic.AccessRequest](ctx, c, http.MethodPost, nil, accounts, sa(saKey), "access-requests", segment{"access_request", id}, "deny")
}

func (c *Client) CreateAPIKey(ctx context.Context, in smartlic.APIKeyInput) (smartlic.UserAPIKey, error) {
	return send[smartlic.UserAPIKey](ctx, c, http.MethodPost, wire.APIKeyRequest{Name: in.Name, ExpiresInDays: in.ExpiresInDays}, me, "api-keys")
}

func (c *Client) ListAPIKeys(ctx context.Context, p smartlic.Page) ([]smartlic.UserAPIKey, string, error) {
	return list[smartlic.UserAPIKey](ctx, c, p, me, "api-keys")
}

func (c *Client) RevokeAPIKey(ctx context.Context, id string) (smartlic.UserAPIKey, error) {
	return send[smartlic.UserAPIKey](ctx, c, http.MethodPost, nil, me, "api-keys", segment{"api_key", id}, "revoke")
}

// clientsPath addresses the OAuth clients of a Smart Account, or the
// vendor's when saKey is empty.
func clientsPath(saKey string) []any {
	if saKey == "" {
		return []any{vendorClients}
	}
	return []any{accounts, sa(saKey), "oauth-clients"}
}

func (c *Client) CreateOAuthClient(ctx context.Context, saKey string, in smartlic.OAuthClientInput) (smartlic.OAuthClient, error) {
	return send[smartlic.OAuthClient](ctx, c, http.MethodPost, wire.OAuthClientRequest{Name: in.Name, Role: in.Role, Scopes: in.Scopes}, clientsPath(saKey)...)
}

func (c *Client) ListOAuthClients(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.OAuthClient, string, error) {
	return list[smartlic.OAuthClient](ctx, c, p, clientsPath(saKey)...)
}

func (c *Client) RevokeOAuthClient(ctx context.Context, saKey, id string) (smartlic.OAuthClient, error) {
	return send[smartlic.OAuthClient](ctx, c, http.MethodPost, nil, append(clientsPath(saKey), segment{"oauth_client", id}, "revoke")...)
}

// IssueToken asks the token endpoint for an access token the way RFC 6749
// clients do: a form with the client's credentials. The token works as
// this client's (or another client's) API key.
func (c *Client) IssueToken(ctx context.Context, clientID, secret, scope string) (smartlic.TokenGrant, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	if scope != "" {
		form.Set("scope", scope)
	}
	var g smartlic.TokenGrant
	resp, err := c.raw(ctx, http.MethodPost, "/api/v1/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), nil)
	if err != nil {
		return g, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&g); err != nil {
		return g, fmt.Errorf("smartlic client: token answer: %w", err)
	}
	return g, nil
}

// Login signs in; Login.Secret is the session cookie's value, for
// WithSession.
func (c *Client) Login(ctx context.Context, email, password string) (smartlic.Login, error) {
	b, err := json.Marshal(wire.LoginRequest{Email: email, Password: password})
	if err != nil {
		return smartlic.Login{}, err
	}
	var l smartlic.Login
	resp, err := c.raw(ctx, http.MethodPost, "/api/v1/auth/login", "application/json", strings.NewReader(string(b)), nil)
	if err != nil {
		return l, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return l, fmt.Errorf("smartlic client: login answer: %w", err)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			l.Secret = ck.Value
		}
	}
	if l.Secret == "" {
		return l, fmt.Errorf("smartlic client: the login answer set no session cookie")
	}
	return l, nil
}

// Logout ends the session; csrfToken is the one its login answered.
func (c *Client) Logout(ctx context.Context, secret, csrfToken string) error {
	resp, err := c.raw(ctx, http.MethodPost, "/api/v1/auth/logout", "", nil, &http.Cookie{Name: sessionCookie, Value: secret}, csrfToken)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// AuthenticateSession asks the server who the session is. The CSRF token
// is not part of the answer: it was in the login's.
func (c *Client) AuthenticateSession(ctx context.Context, secret string) (smartlic.Actor, smartlic.Session, error) {
	resp, err := c.raw(ctx, http.MethodGet, "/"+me, "", nil, &http.Cookie{Name: sessionCookie, Value: secret})
	if err != nil {
		return smartlic.Actor{}, smartlic.Session{}, err
	}
	defer resp.Body.Close()
	var id smartlic.Identity
	if err := json.NewDecoder(resp.Body).Decode(&id); err != nil {
		return smartlic.Actor{}, smartlic.Session{}, fmt.Errorf("smartlic client: identity answer: %w", err)
	}
	return id.Actor, smartlic.Session{UserID: id.Actor.UserID}, nil
}

// raw sends a request without the client's API key and returns a 2xx
// answer for the caller to read, or the error of any other.
func (c *Client) raw(ctx context.Context, method, path, contentType string, body io.Reader, cookie *http.Cookie, csrf ...string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("smartlic client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for _, t := range csrf {
		req.Header.Set("X-CSRF-Token", t)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("smartlic client: %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

// InviteUser invites an e-mail address into a Smart Account; the code is
// in the answer only.
func (c *Client) InviteUser(ctx context.Context, saKey string, in smartlic.InvitationInput) (smartlic.Invitation, error) {
	return send[smartlic.Invitation](ctx, c, http.MethodPost, wire.InvitationRequest{Email: in.Email, Role: in.Role, VA: in.VA}, accounts, sa(saKey), "invitations")
}

func (c *Client) ListInvitations(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.Invitation, string, error) {
	return list[smartlic.Invitation](ctx, c, p, accounts, sa(saKey), "invitations")
}

func (c *Client) RevokeInvitation(ctx context.Context, saKey, id string) (smartlic.Invitation, error) {
	return send[smartlic.Invitation](ctx, c, http.MethodPost, nil, accounts, sa(saKey), "invitations", segment{"invitation", id}, "revoke")
}

// AcceptInvitation spends an invitation code; it needs no credentials.
func (c *Client) AcceptInvitation(ctx context.Context, in smartlic.AcceptInvitationInput) (smartlic.RoleAssignment, error) {
	return send[smartlic.RoleAssignment](ctx, c, http.MethodPost, wire.AcceptInvitationRequest{Code: in.Code, Name: in.Name, Password: in.Password}, "api/v1/invitations", "accept")
}
