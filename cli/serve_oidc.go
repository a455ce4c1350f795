package cli

import (
	"context"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/secretbox"
	"github.com/smartlic/smartlic/sso"
)

// Environment variables of serve's single sign-on and public URL flags;
// a flag given on the command line wins.
const (
	envPublicURL        = "SMARTLIC_PUBLIC_URL"
	envOIDCIssuer       = "SMARTLIC_OIDC_ISSUER"
	envOIDCClientID     = "SMARTLIC_OIDC_CLIENT_ID"
	envOIDCSecretFile   = "SMARTLIC_OIDC_CLIENT_SECRET_FILE"
	envOIDCRedirectURL  = "SMARTLIC_OIDC_REDIRECT_URL"
	envOIDCName         = "SMARTLIC_OIDC_NAME"
	envOIDCAllowDomains = "SMARTLIC_OIDC_ALLOWED_DOMAINS"
)

// oidcFlags configure single sign-on with an OpenID provider. The client
// secret is read from a file only, like the SMTP password: on the command
// line it would show in the process list and in shell history.
type oidcFlags struct {
	publicURL   string
	issuer      string
	clientID    string
	secretFile  string
	redirectURL string
	name        string
	domains     []string
}

func (o *oidcFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.publicURL, "public-url", "", "the URL people and devices reach this server at, e.g. https://licensing.example.com (env "+envPublicURL+"; default http:// and the listening address)")
	fl.StringVar(&o.issuer, "oidc-issuer", "", "OpenID Connect issuer URL for single sign-on, e.g. https://login.example.com/realms/acme (env "+envOIDCIssuer+"; none: sign-in by password only)")
	fl.StringVar(&o.clientID, "oidc-client-id", "", "client id registered at the OpenID provider (env "+envOIDCClientID+")")
	fl.StringVar(&o.secretFile, "oidc-client-secret-file", "", "file holding the client secret (env "+envOIDCSecretFile+"; none: a public client, PKCE only)")
	fl.StringVar(&o.redirectURL, "oidc-redirect-url", "", "redirect URI registered at the provider (env "+envOIDCRedirectURL+"; default --public-url + "+sso.CallbackPath+")")
	fl.StringVar(&o.name, "oidc-name", "", "label of the sign-in button, \"Sign in with NAME\" (env "+envOIDCName+"; default \"single sign-on\")")
	fl.StringSliceVar(&o.domains, "oidc-allowed-domains", nil, "e-mail domains that may sign in with the provider, comma-separated (env "+envOIDCAllowDomains+"; default: any the provider vouches for)")
}

// fromEnv fills the flags not given from their environment variables.
func (o *oidcFlags) fromEnv(e *env) {
	for _, v := range []struct {
		dst *string
		env string
	}{
		{&o.publicURL, envPublicURL}, {&o.issuer, envOIDCIssuer}, {&o.clientID, envOIDCClientID},
		{&o.secretFile, envOIDCSecretFile}, {&o.redirectURL, envOIDCRedirectURL}, {&o.name, envOIDCName},
	} {
		if *v.dst == "" {
			*v.dst = e.getenv(v.env)
		}
	}
	if len(o.domains) == 0 {
		if s := e.getenv(envOIDCAllowDomains); s != "" {
			o.domains = strings.Split(s, ",")
		}
	}
}

// checkPublicURL checks --public-url before the server starts.
func (o *oidcFlags) checkPublicURL() error {
	if o.publicURL == "" {
		return nil
	}
	u, err := url.Parse(o.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return smartlic.Invalid("--public-url", "must be an http(s) URL with no path, such as https://licensing.example.com (got %q)", o.publicURL)
	}
	o.publicURL = strings.TrimSuffix(o.publicURL, "/")
	return nil
}

// public is the server's public URL: --public-url, or the listening one.
func (o *oidcFlags) public(listening string) string {
	if o.publicURL != "" {
		return o.publicURL
	}
	return listening
}

// provider checks the single sign-on flags and runs the provider's
// discovery; nil without --oidc-issuer. A flag of single sign-on without
// the issuer is a mistake worth stopping for.
func (o *oidcFlags) provider(ctx context.Context, public string, keys *secretbox.Keyring) (*sso.Provider, error) {
	if o.issuer == "" {
		for _, f := range []struct{ name, value string }{
			{"--oidc-client-id", o.clientID}, {"--oidc-client-secret-file", o.secretFile},
			{"--oidc-redirect-url", o.redirectURL}, {"--oidc-name", o.name}, {"--oidc-allowed-domains", strings.Join(o.domains, ",")},
		} {
			if f.value != "" {
				return nil, smartlic.Invalid("--oidc-issuer", "is required with %s", f.name)
			}
		}
		return nil, nil
	}
	cfg := sso.Config{Issuer: o.issuer, ClientID: o.clientID, RedirectURL: o.redirectURL, Name: o.name, AllowedDomains: o.domains, Keys: keys}
	if cfg.RedirectURL == "" {
		cfg.RedirectURL = public + sso.CallbackPath
	}
	if err := smartlic.ValidateIdentifier("--oidc-name", o.name); err != nil || len(o.name) > 60 {
		return nil, smartlic.Invalid("--oidc-name", "must be a short label of visible characters, at most 60 bytes (got %q)", o.name)
	}
	if o.secretFile != "" {
		b, err := os.ReadFile(o.secretFile)
		if err != nil {
			// The error names the file, never its content.
			return nil, smartlic.Invalid("--oidc-client-secret-file", "cannot read %s: %v", o.secretFile, err)
		}
		cfg.ClientSecret = strings.TrimRight(string(b), "\r\n")
		if cfg.ClientSecret == "" {
			return nil, smartlic.Invalid("--oidc-client-secret-file", "%s is empty", o.secretFile)
		}
	}
	return sso.New(ctx, cfg)
}
