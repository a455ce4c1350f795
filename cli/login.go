package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
)

// envConfigDir overrides where login keeps its credentials (tests, and
// people who keep several identities apart).
const envConfigDir = "SMARTLIC_CONFIG_DIR"

// credentials is what `smartlic login` stores: a personal API key of the
// user and the one server it is for. It is sent to no other server.
type credentials struct {
	Server    string    `json:"server"`
	Email     string    `json:"email"`
	KeyID     string    `json:"key_id"`
	KeyName   string    `json:"key_name"`
	APIKey    string    `json:"api_key"`
	CreatedAt time.Time `json:"created_at"`
}

// credentialsPath is os.UserConfigDir()/smartlic/credentials.json, or
// $SMARTLIC_CONFIG_DIR/credentials.json.
func (e *env) credentialsPath() (string, error) {
	dir := e.getenv(envConfigDir)
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", smartlic.Errorf(smartlic.EInvalid, "", "no configuration directory to keep credentials in (%v); set %s", err, envConfigDir)
		}
		dir = filepath.Join(base, "smartlic")
	}
	return filepath.Join(dir, "credentials.json"), nil
}

// loadCredentials reads the stored credentials; nil when there are none.
// A file others may read is refused rather than used: its key may already
// be someone else's, and using it silently would hide that.
func (e *env) loadCredentials() (*credentials, string, error) {
	path, err := e.credentialsPath()
	if err != nil {
		return nil, "", err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read credentials: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, path, fmt.Errorf("read credentials: %w", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, path, smartlic.Errorf(smartlic.EForbidden, "", "credentials file %s may be read by others (mode %04o): its key may have leaked; "+
			"run `smartlic logout` to revoke it and `smartlic login` again, or chmod 600 it if you are sure", path, st.Mode().Perm())
	}
	var c credentials
	if err := json.NewDecoder(io.LimitReader(f, 64<<10)).Decode(&c); err != nil || c.APIKey == "" || c.Server == "" {
		return nil, path, smartlic.Errorf(smartlic.EInvalid, "", "credentials file %s is damaged; delete it and run `smartlic login` again", path)
	}
	return &c, path, nil
}

// saveCredentials writes c with mode 0600 in a directory of mode 0700,
// through a temporary file so that a crash leaves the old file or the new.
func (e *env) saveCredentials(c credentials) (string, error) {
	path, err := e.credentialsPath()
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*")
	if err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save credentials: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	return path, nil
}

// sameServer compares two server URLs as the CLI writes them.
func sameServer(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// checkServer resolves --server, then SMARTLIC_SERVER, then fallback.
func (e *env) server(flag, fallback string) (string, error) {
	server := flag
	if server == "" {
		server = e.getenv(envServer)
	}
	if server == "" {
		server = fallback
	}
	if server == "" {
		server = defaultServer
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", smartlic.Invalid("--server", "must be an http:// or https:// URL such as %s (got %q)", defaultServer, server)
	}
	return strings.TrimRight(server, "/"), nil
}

func httpClient() client.Option {
	return client.WithHTTPClient(&http.Client{Timeout: requestTimeout})
}

// addLoginCommands adds login, logout and whoami.
func addLoginCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	whoami := newWhoAmICmd(f)
	f.register(whoami)
	root.AddCommand(newLoginCmd(e), newLogoutCmd(e), whoami)
}

func newLoginCmd(e *env) *cobra.Command {
	var (
		server, email      string
		passwordStdin, web bool
	)
	cmd := &cobra.Command{
		Use:   "login [--server URL] [--email EMAIL] [--password-stdin | --web]",
		Short: "Sign in as a user and keep a personal API key for later commands",
		Long: "login signs in to the server with your e-mail and password (asked for without echo, or read from\n" +
			"standard input with --password-stdin) or, with --web, by confirming a code in the portal, and stores a personal API key named\n" +
			"\"cli on HOST, DATE TIME UTC\" in " + e.credentialsPathForHelp() + " (mode 0600; " + envConfigDir + " sets the directory).\n" +
			"Later commands use it when " + envAPIKey + " is not set. A new login revokes the key stored before it; `smartlic logout` revokes it.",
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv, err := e.server(server, "")
			if err != nil {
				return err
			}
			host, _ := os.Hostname()
			if host == "" {
				host = "unknown host"
			}
			// The date tells this key from the ones of earlier logins in `apikey list`.
			keyName := "cli on " + host + ", " + time.Now().UTC().Format("2006-01-02 15:04") + " UTC"
			var creds credentials
			switch {
			case web && (passwordStdin || email != ""):
				return smartlic.Invalid("--web", "signs in through the portal; it takes no --email or --password-stdin")
			case web:
				creds, err = e.webLogin(cmd.Context(), srv, keyName)
			default:
				creds, err = e.passwordLogin(cmd.Context(), srv, email, passwordStdin, keyName)
			}
			if err != nil {
				return unreachable(srv, err)
			}
			e.revokePrevious(cmd.Context(), creds)
			path, err := e.saveCredentials(creds)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Signed in to %s as %s.\nYour personal API key %q is in %s; `smartlic logout` revokes it.\n", srv, creds.Email, creds.KeyName, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "manager URL (env "+envServer+", default "+defaultServer+")")
	cmd.Flags().StringVar(&email, "email", "", "your e-mail address (asked for when not given)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input (first line) instead of asking")
	cmd.Flags().BoolVar(&web, "web", false, "sign in by confirming a code in the portal (for a machine without a browser, or a single sign-on account)")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

// unreachable says where the CLI looked when the server did not answer.
func unreachable(server string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && smartlic.ErrorCode(err) == smartlic.EInternal {
		return fmt.Errorf("cannot reach the smartlic server at %s (set --server or %s): %w", server, envServer, err)
	}
	return err
}

// passwordLogin signs in with a password, makes a personal API key with
// the session, and ends the session: the key is what stays.
func (e *env) passwordLogin(ctx context.Context, server, email string, passwordStdin bool, keyName string) (credentials, error) {
	in := bufio.NewReader(e.stdinOrEmpty())
	if email == "" {
		if passwordStdin {
			return credentials{}, smartlic.Invalid("--email", "is required with --password-stdin, which reads only the password")
		}
		fmt.Fprint(e.stderr, "E-mail: ")
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return credentials{}, smartlic.Invalid("--email", "no e-mail address given")
		}
		email = strings.TrimSpace(line)
	}
	if _, err := smartlic.NormalizeEmail("--email", email); err != nil {
		return credentials{}, err
	}
	var password string
	if passwordStdin {
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return credentials{}, smartlic.Invalid("--password-stdin", "standard input held no password")
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		f, ok := e.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return credentials{}, smartlic.Invalid("", "no terminal to prompt for the password: pipe it with --password-stdin")
		}
		fmt.Fprint(e.stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return credentials{}, fmt.Errorf("read password: %w", err)
		}
		password = string(b)
	}
	if password == "" {
		return credentials{}, smartlic.Invalid("--password-stdin", "the password is empty")
	}
	if strings.HasPrefix(password, "slk_") {
		// The portal takes an operator key as the operator's password; the
		// CLI needs no sign-in for one, and a personal key is a user's.
		return credentials{}, smartlic.Invalid("password", "this is an operator API key: the CLI uses it as it is (export %s=slk_… or --api-key); smartlic login is for users", envAPIKey)
	}
	anon := client.New(server, "", httpClient())
	l, err := anon.Login(ctx, email, password)
	if err != nil {
		return credentials{}, err
	}
	sess := client.New(server, "", httpClient(), client.WithSession(l.Secret, l.CSRFToken))
	// The session ends whatever happens next: a half-done login leaves no
	// live session behind.
	defer func() { _ = anon.Logout(context.WithoutCancel(ctx), l.Secret, l.CSRFToken) }()
	k, err := sess.CreateAPIKey(ctx, smartlic.APIKeyInput{Name: keyName})
	if err != nil {
		return credentials{}, err
	}
	return credentials{Server: server, Email: l.User.Email, KeyID: k.ID, KeyName: k.Name, APIKey: k.Secret, CreatedAt: k.CreatedAt}, nil
}

func (e *env) stdinOrEmpty() io.Reader {
	if e.stdin == nil {
		return strings.NewReader("")
	}
	return e.stdin
}

func newLogoutCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke the personal API key `smartlic login` stored, and delete it",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := e.credentialsPath()
			if err != nil {
				return err
			}
			c, _, err := e.loadCredentials()
			if smartlic.ErrorCode(err) == smartlic.EForbidden || smartlic.ErrorCode(err) == smartlic.EInvalid {
				// A leaked or damaged file is still worth revoking and removing.
				b, rerr := os.ReadFile(path)
				var leaked credentials
				if rerr != nil || json.Unmarshal(b, &leaked) != nil || leaked.APIKey == "" {
					if rmErr := os.Remove(path); rmErr != nil {
						return rmErr
					}
					fmt.Fprintf(e.stdout, "Deleted %s (it held no usable key).\n", path)
					return nil
				}
				c, err = &leaked, nil
			}
			if err != nil {
				return err
			}
			if c == nil {
				return smartlic.Errorf(smartlic.ENotFound, "", "not signed in: %s does not exist", path)
			}
			said, err := revokeStored(cmd.Context(), c)
			if err != nil {
				return fmt.Errorf("the key was not revoked and %s is kept: %w", path, unreachable(c.Server, err))
			}
			fmt.Fprintf(e.stdout, "%s.\n", said)
			if err := os.Remove(path); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Deleted %s.\n", path)
			return nil
		},
	}
}

// revokeStored revokes the stored key with itself and says what happened;
// a key that no longer works is not an error: there is nothing to undo.
func revokeStored(ctx context.Context, c *credentials) (string, error) {
	_, err := client.New(c.Server, c.APIKey, httpClient()).RevokeAPIKey(ctx, c.KeyID)
	switch smartlic.ErrorCode(err) {
	case "":
		return fmt.Sprintf("Revoked the API key %q on %s", c.KeyName, c.Server), nil
	case smartlic.EUnauthorized:
		// Revoked, expired or its user disabled already.
		return fmt.Sprintf("The API key %q no longer worked on %s", c.KeyName, c.Server), nil
	}
	return "", err
}

// revokePrevious revokes the key an earlier login stored, which the new
// login's file replaces: left alone it would stay valid with nobody holding
// it. Best effort: a failure is said, not fatal, since the new key works.
func (e *env) revokePrevious(ctx context.Context, next credentials) {
	prev, _, err := e.loadCredentials()
	if err != nil || prev == nil || prev.APIKey == "" || prev.KeyID == next.KeyID {
		return
	}
	said, err := revokeStored(ctx, prev)
	if err != nil {
		fmt.Fprintf(e.stderr, "The previous API key %q on %s (of %s) could not be revoked: %v; revoke it in the portal or with `smartlic apikey revoke %s`.\n",
			prev.KeyName, prev.Server, prev.Email, unreachable(prev.Server, err), prev.KeyID)
		return
	}
	fmt.Fprintf(e.stderr, "%s (the previous login, of %s).\n", said, prev.Email)
}

// credentialsPathForHelp is where login keeps its key, for help text.
func (e *env) credentialsPathForHelp() string {
	if p, err := e.credentialsPath(); err == nil {
		return p
	}
	return filepath.Join("$"+envConfigDir, "credentials.json")
}
