// Package sso adapts OpenID Connect (github.com/coreos/go-oidc and
// golang.org/x/oauth2) to smartlic's single sign-on: the authorization
// code flow with PKCE (S256), a nonce, and the state kept in a sealed
// cookie rather than in server memory, so that any replica can finish a
// sign-in another one began.
//
// Begin answers the provider's authorization URL and the cookie to set;
// Finish checks the callback against that cookie, exchanges the code with
// the PKCE verifier, verifies the ID token (signature, issuer, audience,
// expiry, nonce) and answers its claims. Deciding which user that is, is
// the manager's (smartlic.IdentityService).
package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/secretbox"
)

// StateTTL is how long a person has at the provider between Begin and
// the callback.
const StateTTL = 10 * time.Minute

// Scopes asked of the provider: the subject, the e-mail and whether the
// provider verified it, and a name for a new user.
var Scopes = []string{oidc.ScopeOpenID, "email", "profile"}

// sealContext binds a sealed state to its use: a value sealed for another
// purpose with the same key file does not open as a sign-in state.
const sealContext = "smartlic sso state v1"

// Config configures a provider.
type Config struct {
	Issuer       string // the provider's issuer URL, as its discovery document states it
	ClientID     string
	ClientSecret string // empty for a public client (PKCE alone)
	RedirectURL  string // this server's /login/oidc/callback, registered at the provider
	// Name labels the sign-in button ("Sign in with Acme SSO").
	Name string
	// AllowedDomains, when not empty, are the e-mail domains that may sign
	// in (lower case, exact: "acme.example" does not allow "eu.acme.example").
	AllowedDomains []string
	// Keys seal the state cookie. Replicas share the key file, so a
	// sign-in begun on one finishes on another.
	Keys *secretbox.Keyring
	// Clock checks the state's and the ID token's expiry; nil is the
	// system clock.
	Clock smartlic.Clock
	// HTTPClient talks to the provider; nil is a client with a 10-second
	// timeout.
	HTTPClient *http.Client
}

// Provider is one configured OpenID provider.
type Provider struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

// New checks cfg and runs the provider's discovery (its
// /.well-known/openid-configuration): a provider that cannot be reached
// or describes another issuer is an error naming the issuer, at start-up
// rather than at the first sign-in.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = smartlic.SystemClock{}
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, smartlic.Invalid("--oidc-issuer", "OpenID Connect discovery of %s failed: %v", cfg.Issuer, err)
	}
	var meta struct {
		Challenges []string `json:"code_challenge_methods_supported"`
	}
	if err := p.Claims(&meta); err == nil && len(meta.Challenges) > 0 && !slices.Contains(meta.Challenges, "S256") {
		return nil, smartlic.Invalid("--oidc-issuer", "%s does not support PKCE with S256 (it lists %s)", cfg.Issuer, strings.Join(meta.Challenges, ", "))
	}
	return &Provider{
		cfg:    cfg,
		client: client,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: Scopes},
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: cfg.Clock.Now}),
	}, nil
}

func (c *Config) check() error {
	switch {
	case c.Issuer == "":
		return smartlic.Invalid("--oidc-issuer", "is required for single sign-on")
	case c.ClientID == "":
		return smartlic.Invalid("--oidc-client-id", "is required with --oidc-issuer")
	case c.Keys == nil:
		return smartlic.Invalid("--secret-key-file", "is required with --oidc-issuer: it seals the sign-in state")
	}
	iss, err := url.Parse(c.Issuer)
	if err != nil || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" || (iss.Scheme != "https" && !loopback(iss.Hostname())) {
		return smartlic.Invalid("--oidc-issuer", "must be the provider's https:// issuer URL, without query or fragment (got %q)", c.Issuer)
	}
	red, err := url.Parse(c.RedirectURL)
	if err != nil || red.Host == "" || (red.Scheme != "https" && red.Scheme != "http") || red.Fragment != "" {
		return smartlic.Invalid("--oidc-redirect-url", "must be an absolute http(s) URL of this server's /login/oidc/callback (got %q)", c.RedirectURL)
	}
	if red.Path != CallbackPath {
		return smartlic.Invalid("--oidc-redirect-url", "must end in %s, where the portal takes the provider's answer (got %q)", CallbackPath, c.RedirectURL)
	}
	for i, d := range c.AllowedDomains {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
		if d == "" || strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			return smartlic.Invalid("--oidc-allowed-domains", "must be e-mail domains such as acme.example (got %q)", c.AllowedDomains[i])
		}
		c.AllowedDomains[i] = d
	}
	return nil
}

// loopback allows http:// issuers on this machine only (a provider in a
// test, or one behind a local proxy): anywhere else, discovery over http
// would let the network swap the provider's keys.
func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Paths of the portal's sign-in with the provider.
const (
	StartPath    = "/login/oidc"
	CallbackPath = "/login/oidc/callback"
)

// Name is the button's label.
func (p *Provider) Name() string {
	if p.cfg.Name != "" {
		return p.cfg.Name
	}
	return "single sign-on"
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// state is what the cookie carries between Begin and Finish.
type state struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"next,omitempty"`
	Expires  int64  `json:"exp"` // Unix seconds
}

// Begin starts a sign-in that returns to next (a local path): the URL to
// send the browser to, and the sealed cookie value that Finish needs.
func (p *Provider) Begin(next string) (authURL, cookie string, err error) {
	s := state{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: p.cfg.Clock.Now().Add(StateTTL).Unix()}
	b, err := json.Marshal(s)
	if err != nil {
		return "", "", smartlic.Internal(err, "encoding the sign-in state")
	}
	authURL = p.oauth.AuthCodeURL(s.State, oauth2.S256ChallengeOption(s.Verifier), oidc.Nonce(s.Nonce))
	return authURL, p.cfg.Keys.Seal(b, sealContext), nil
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// refuse is a failed step: message for the person, reason for the log
// (never a code, token or secret).
func refuse(message, reason string, args ...any) error {
	return &smartlic.Error{Code: smartlic.EUnauthorized, Message: message, Err: fmt.Errorf(reason, args...)}
}

// Finish checks the provider's answer (the callback's query) against the
// sealed cookie, exchanges the code and verifies the ID token. It answers
// the token's claims and the local path the sign-in began from.
func (p *Provider) Finish(ctx context.Context, cookie string, q url.Values) (smartlic.OIDCClaims, string, error) {
	var c smartlic.OIDCClaims
	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		if len(desc) > 200 || smartlic.ValidateIdentifier("error_description", desc) != nil {
			desc = ""
		}
		msg := "Your identity provider did not sign you in (" + limit(e, 60) + ")."
		if desc != "" {
			msg = "Your identity provider did not sign you in: " + desc
		}
		return c, "", refuse(msg, "provider answered error %.60q", e)
	}
	if cookie == "" {
		return c, "", refuse("No sign-in with "+p.Name()+" is in progress in this browser (it was finished already, or cookies are blocked). Start again.", "no state cookie")
	}
	b, err := p.cfg.Keys.Open(cookie, sealContext)
	var s state
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		return c, "", refuse("The sign-in could not be checked (its cookie is damaged or from another server). Start again.", "state cookie: %v", err)
	}
	if !p.cfg.Clock.Now().Before(time.Unix(s.Expires, 0)) {
		return c, "", refuse("The sign-in took too long (more than 10 minutes). Start again.", "state expired")
	}
	if st := q.Get("state"); st == "" || st != s.State {
		return c, "", refuse("The provider's answer does not belong to the sign-in begun in this browser. Start again.", "state mismatch")
	}
	// RFC 9207: a provider that names itself must be ours (mix-up attack).
	if iss := q.Get("iss"); iss != "" && iss != p.cfg.Issuer {
		return c, "", refuse("The answer came from another identity provider. Start again.", "iss parameter %.100q is not the issuer", iss)
	}
	code := q.Get("code")
	if code == "" {
		return c, s.Next, refuse("The identity provider's answer has no authorization code. Start again.", "no code")
	}
	ctx = context.WithValue(oidc.ClientContext(ctx, p.client), oauth2.HTTPClient, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(s.Verifier))
	if err != nil {
		return c, s.Next, refuse("The identity provider did not accept the sign-in's code. Start again.", "code exchange: %v", exchangeError(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return c, s.Next, refuse("The identity provider answered without an ID token; is the openid scope allowed for this client?", "no id_token in the token response")
	}
	id, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return c, s.Next, refuse("The identity provider's ID token has expired; check this server's clock, then start again.", "id token: %v", err)
		}
		return c, s.Next, refuse("The identity provider's ID token did not verify. Start again, or ask an administrator to check the provider's settings.", "id token: %v", err)
	}
	if id.Nonce != s.Nonce {
		return c, s.Next, refuse("The ID token was not issued for this sign-in (nonce). Start again.", "nonce mismatch")
	}
	var extra struct {
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		Name          string          `json:"name"`
		AZP           string          `json:"azp"`
	}
	if err := id.Claims(&extra); err != nil {
		return c, s.Next, refuse("The ID token's claims could not be read.", "claims: %v", err)
	}
	// With several audiences, the token must say it was issued to us
	// (OpenID Connect Core §3.1.3.7, items 4 and 5).
	if (len(id.Audience) > 1 || extra.AZP != "") && extra.AZP != p.cfg.ClientID {
		return c, s.Next, refuse("The ID token was issued to another application. Start again.", "azp %.100q is not the client id", extra.AZP)
	}
	c = smartlic.OIDCClaims{Issuer: id.Issuer, Subject: id.Subject, Email: extra.Email, Name: extra.Name,
		// Some providers send "true" as a string.
		EmailVerified: string(extra.EmailVerified) == "true" || string(extra.EmailVerified) == `"true"`}
	if len(p.cfg.AllowedDomains) > 0 {
		domain := ""
		if at := strings.LastIndexByte(extra.Email, '@'); at >= 0 {
			domain = strings.ToLower(extra.Email[at+1:])
		}
		if !slices.Contains(p.cfg.AllowedDomains, domain) {
			return c, s.Next, &smartlic.Error{Code: smartlic.EForbidden,
				Message: "Addresses of your e-mail domain may not sign in here with " + p.Name() + ".",
				Err:     fmt.Errorf("e-mail domain %.100q is not allowed", domain)}
		}
	}
	return c, s.Next, nil
}

// exchangeError keeps the provider's error code of a failed exchange and
// drops the rest: the body may echo what was sent.
func exchangeError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return "provider answered " + limit(re.ErrorCode, 60)
		}
		if re.Response != nil {
			return "provider answered HTTP " + re.Response.Status
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + ue.URL + ": " + ue.Err.Error()
	}
	return "exchange failed"
}

func limit(s string, n int) string {
	if len(s) > n || smartlic.ValidateIdentifier("", s) != nil {
		return "unreadable error"
	}
	return s
}
