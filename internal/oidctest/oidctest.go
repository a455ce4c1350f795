// Package oidctest is an OpenID provider for tests: a real one, on an
// httptest server, that the code under test reaches over HTTP as it would
// reach Keycloak or Entra ID. It serves discovery, its keys (JWKS), an
// authorization endpoint that signs in whoever the test says without a
// login page, and a token endpoint that checks what a provider must: the
// client's secret, the redirect URI, single use of a code, and the PKCE
// verifier against the S256 challenge. ID tokens are signed with go-jose,
// RS256 or ES256.
//
// Tests misbehave through it as an attacker or a broken provider would:
// EditClaims changes the claims of the next ID tokens (another nonce,
// audience or expiry), TamperSignature breaks their signatures.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Identity is the person the provider signs in. EmailVerified nil leaves
// the claim out.
type Identity struct {
	Subject       string
	Email         string
	EmailVerified *bool
	Name          string
}

// Verified returns an identity whose e-mail the provider has verified.
func Verified(subject, email string) Identity {
	t := true
	return Identity{Subject: subject, Email: email, EmailVerified: &t, Name: "User " + subject}
}

// Options configure a provider.
type Options struct {
	ClientID     string // default "smartlic"
	ClientSecret string // default "s3cret"; the token endpoint requires it
	// Algorithm signs ID tokens: "RS256" (default) or "ES256".
	Algorithm string
	// Now is the provider's clock (iat, exp); nil is time.Now.
	Now func() time.Time
	// TTL is the ID tokens' lifetime; default an hour.
	TTL time.Duration
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's URL: discovery is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	opts   Options
	key    jose.JSONWebKey
	signer jose.Signer
	t      testing.TB

	mu          sync.Mutex
	redirectURL string
	who         Identity
	edit        func(claims map[string]any)
	tamper      bool
	codes       map[string]*grant
	exchanges   int
}

type grant struct {
	who           Identity
	redirectURI   string
	challenge     string
	nonce         string
	used          bool
	clientID      string
	scope         string
	authorizedAt  time.Time
	challengeMeth string
}

// New starts a provider for the client whose redirect URI is
// redirectURL (SetRedirectURL may give it later, once the server under
// test knows its address). It stops when the test ends.
func New(t testing.TB, redirectURL string, opts Options) *Provider {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "smartlic"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "s3cret"
	}
	if opts.Algorithm == "" {
		opts.Algorithm = string(jose.RS256)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TTL == 0 {
		opts.TTL = time.Hour
	}
	var priv crypto.Signer
	var err error
	switch opts.Algorithm {
	case string(jose.RS256):
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case string(jose.ES256):
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("oidctest: unsupported algorithm %q", opts.Algorithm)
	}
	if err != nil {
		t.Fatal(err)
	}
	key := jose.JSONWebKey{Key: priv, KeyID: "test-key-1", Algorithm: opts.Algorithm, Use: "sig"}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(opts.Algorithm), Key: key},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{opts: opts, key: key, signer: signer, t: t, redirectURL: redirectURL, codes: map[string]*grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.Issuer = srv.URL
	return p
}

// ClientID and ClientSecret are the credentials of the one client.
func (p *Provider) ClientID() string     { return p.opts.ClientID }
func (p *Provider) ClientSecret() string { return p.opts.ClientSecret }

// SetRedirectURL registers the client's redirect URI.
func (p *Provider) SetRedirectURL(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirectURL = u
}

// SignInAs makes the authorization endpoint sign in who.
func (p *Provider) SignInAs(who Identity) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.who = who
}

// EditClaims makes fn change the claims of every ID token issued from now
// on (nil stops it): {"nonce": …, "aud": …, "exp": …, "iss": …}.
func (p *Provider) EditClaims(fn func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.edit = fn
}

// TamperSignature makes the ID tokens issued from now on carry a broken
// signature.
func (p *Provider) TamperSignature(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = on
}

// Exchanges counts the codes the token endpoint exchanged successfully.
func (p *Provider) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{p.opts.Algorithm},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{p.key.Public()}})
}

// authorize signs in the identity SignInAs set and redirects back with a
// code. What a real provider refuses to redirect (an unknown client or a
// redirect URI not registered) it answers with an error page instead.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.Get("client_id") != p.opts.ClientID {
		http.Error(w, "oidctest: unknown client_id", http.StatusBadRequest)
		return
	}
	if q.Get("redirect_uri") == "" || q.Get("redirect_uri") != p.redirectURL {
		http.Error(w, "oidctest: redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(p.redirectURL)
	answer := func(v url.Values) {
		v.Set("state", q.Get("state"))
		v.Set("iss", p.Issuer)
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		answer(url.Values{"error": {"unsupported_response_type"}})
		return
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		answer(url.Values{"error": {"invalid_scope"}, "error_description": {"openid scope missing"}})
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		answer(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE with S256 is required"}})
		return
	case p.who.Subject == "":
		answer(url.Values{"error": {"access_denied"}, "error_description": {"nobody signed in"}})
		return
	}
	code := randomString()
	p.codes[code] = &grant{who: p.who, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		challengeMeth: q.Get("code_challenge_method"), nonce: q.Get("nonce"), clientID: q.Get("client_id"),
		scope: q.Get("scope"), authorizedAt: p.opts.Now()}
	answer(url.Values{"code": {code}})
}

// token exchanges a code (RFC 6749 §4.1.3 with RFC 7636 §4.6).
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.codes[r.PostForm.Get("code")]
	if g == nil || g.used || g.clientID != id {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	g.used = true // a code is spent by its first use, right or wrong
	if r.PostForm.Get("redirect_uri") != g.redirectURI {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	now := p.opts.Now()
	claims := map[string]any{
		"iss": p.Issuer, "sub": g.who.Subject, "aud": p.opts.ClientID,
		"iat": now.Unix(), "exp": now.Add(p.opts.TTL).Unix(), "auth_time": g.authorizedAt.Unix(),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if g.who.Email != "" {
		claims["email"] = g.who.Email
	}
	if g.who.EmailVerified != nil {
		claims["email_verified"] = *g.who.EmailVerified
	}
	if g.who.Name != "" {
		claims["name"] = g.who.Name
	}
	if p.edit != nil {
		p.edit(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		p.t.Error(err)
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		p.t.Error(err)
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	idToken, err := jws.CompactSerialize()
	if err != nil {
		p.t.Error(err)
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	if p.tamper {
		idToken = tamper(idToken)
	}
	p.exchanges++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": randomString(), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken,
	})
}

// tamper flips a bit in the middle of the signature: still well-formed
// base64url, no longer the provider's signature.
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) == 0 {
		return token + "x"
	}
	sig[len(sig)/2] ^= 0x01
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
