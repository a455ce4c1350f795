package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
)

// Defaults of the API client nouns.
const (
	defaultServer = "http://127.0.0.1:8080"
	envServer     = "SMARTLIC_SERVER"
	envAPIKey     = "SMARTLIC_API_KEY"
	envAccount    = "SMARTLIC_ACCOUNT"

	// requestTimeout bounds one API request, so a server that accepts
	// connections but never answers does not hang a script.
	requestTimeout = time.Minute
)

// api is what the client nouns call: the REST API client, which grows a
// method with every route, so every noun can reach every route.
type api = *client.Client

// addClientCommands adds the nouns that talk to a smartlic server.
func addClientCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	for _, noun := range []*cobra.Command{
		newCatalogCmd(f),
		newAccountCmd(f),
		newVACmd(f),
		newDepositCmd(f),
		newTokenCmd(f),
		newLicenseCmd(f),
		newInstanceCmd(f),
	} {
		f.register(noun)
		root.AddCommand(noun)
	}
}

// clientFlags are the connection and output flags every noun shares. They
// are persistent on each noun rather than on the root so that serve, admin
// and device do not grow flags they ignore.
type clientFlags struct {
	e      *env
	server string
	apiKey string
	output string
}

func (f *clientFlags) register(noun *cobra.Command) {
	pf := noun.PersistentFlags()
	pf.StringVar(&f.server, "server", "", "manager URL (env "+envServer+", default "+defaultServer+")")
	pf.StringVar(&f.apiKey, "api-key", "", "API key (env "+envAPIKey+")")
	pf.StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	noun.SetFlagErrorFunc(flagError)
}

// run checks the connection and output flags, then calls fn with a client.
// Everything the CLI parses itself is checked before any request is made.
func (f *clientFlags) run(cmd *cobra.Command, fn func(ctx context.Context, a api, p printer) error) error {
	p := printer{w: f.e.stdout}
	switch f.output {
	case "table":
	case "json":
		p.json = true
	default:
		return smartlic.Invalid("--output", "must be table or json (got %q)", f.output)
	}
	key := f.apiKey
	if key == "" {
		key = f.e.getenv(envAPIKey)
	}
	fallback := ""
	stored := "" // the credentials file, when the key is the one login stored
	if key == "" {
		// The key of `smartlic login`, for the server it was made on only.
		creds, path, err := f.e.loadCredentials()
		if err != nil {
			return err
		}
		if creds != nil {
			fallback = creds.Server
			if s, _ := f.e.server(f.server, creds.Server); sameServer(s, creds.Server) {
				key, stored = creds.APIKey, path
			} else {
				return smartlic.Invalid("--api-key", "no API key for %s: the one in %s is for %s; run `smartlic login --server %s`", s, path, creds.Server, s)
			}
		}
	}
	server, err := f.e.server(f.server, fallback)
	if err != nil {
		return err
	}
	if key == "" && cmd.Annotations[anonymousOK] == "" {
		return smartlic.Invalid("--api-key", "no API key: run `smartlic login`, set %s or pass --api-key", envAPIKey)
	}
	// A wrong or missing --server is the usual reason for no answer: say where we looked.
	c := client.New(server, key, httpClient())
	vas := f.defaultVA(cmd.Context(), cmd, c)
	err = namedVAs(fn(cmd.Context(), c, p), f.accountOf(cmd), vas)
	return staleLogin(stored, server, unreachable(server, err))
}

// staleLogin says what to do when the key login stored is refused (revoked,
// expired, its user disabled): "invalid credentials" alone does not say
// which credentials, nor that a new login fixes it.
func staleLogin(path, server string, err error) error {
	var e *smartlic.Error
	if path == "" || !errors.As(err, &e) || e.Code != smartlic.EUnauthorized {
		return err
	}
	return smartlic.Errorf(smartlic.EUnauthorized, e.Field, "the API key stored in %s for %s no longer works (%s): run `smartlic login`", path, server, e.Message)
}

// anonymousOK annotates a command whose request needs no API key (accepting
// an invitation: the code is the credential).
const anonymousOK = "smartlic.anonymous"

// account resolves the --account flag, falling back to SMARTLIC_ACCOUNT.
func (f *clientFlags) account(flag string) (string, error) {
	if flag == "" {
		flag = f.e.getenv(envAccount)
	}
	if flag == "" {
		return "", smartlic.Invalid("--account", "no Smart Account: pass --account or set %s", envAccount)
	}
	return flag, nil
}

// runIn is run for a verb that works in a Smart Account: fn gets the
// account the command names (--account, else the environment's).
func (f *clientFlags) runIn(cmd *cobra.Command, account string, fn func(ctx context.Context, a api, p printer, sa string) error) error {
	return f.run(cmd, func(ctx context.Context, a api, p printer) error {
		sa, err := f.account(account)
		if err != nil {
			return err
		}
		return fn(ctx, a, p, sa)
	})
}

// showIn is the most common verb of all: in the command's Smart Account,
// make one call and print the one thing it answers.
func showIn[T any](f *clientFlags, cmd *cobra.Command, account string, t table[T], call func(ctx context.Context, a api, sa string) (T, error)) error {
	return f.runIn(cmd, account, func(ctx context.Context, a api, p printer, sa string) error {
		got, err := call(ctx, a, sa)
		if err != nil {
			return err
		}
		return printOne(p, got, t)
	})
}

// scope is the Smart Account (and Virtual Account) a command works in.
type scope struct {
	account string
	va      string
	// vaChanged records, for a verb that needs to know, whether --va was given.
	vaChanged bool
}

// vaGiven is --va when the user gave it, else "": for a verb that finds a
// globally unique id (or UDI) in whichever VA of the account holds it.
func (s *scope) vaGiven(cmd *cobra.Command) string {
	if cmd.Flags().Changed("va") {
		return s.va
	}
	return ""
}

func (s *scope) registerAccount(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&s.account, "account", "", "Smart Account id or domain (env "+envAccount+")")
}

func (s *scope) registerVA(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&s.va, "va", smartlic.DefaultVAName, "Virtual Account id or name")
}

// numberArg is the annotation naming a command's numeric positional
// argument (COUNT), so that "use TAG -1" is refused as a bad COUNT instead
// of as an unknown flag "-1".
const numberArg = "smartlic/number-arg"

// flagError turns pflag's parse errors into invalid errors naming the
// flag, so they read and exit like every other input error.
func flagError(cmd *cobra.Command, err error) error {
	var (
		bad      *pflag.InvalidValueError
		missing  *pflag.ValueRequiredError
		unknown  *pflag.NotExistError
		numError *strconv.NumError
	)
	switch {
	case errors.As(err, &bad):
		name := "--" + bad.GetFlag().Name
		if errors.As(err, &numError) {
			if errors.Is(numError.Err, strconv.ErrRange) {
				return smartlic.Invalid(name, "number out of range (got %q)", bad.GetValue())
			}
			if numError.Func == "ParseBool" {
				return smartlic.Invalid(name, "must be true or false (got %q)", bad.GetValue())
			}
			return smartlic.Invalid(name, "must be a whole number (got %q)", bad.GetValue())
		}
		return smartlic.Invalid(name, "invalid value %q: %v", bad.GetValue(), bad.Unwrap())
	case errors.As(err, &missing):
		return smartlic.Invalid("--"+missing.GetSpecifiedName(), "needs a value")
	case errors.As(err, &unknown):
		name := unknown.GetSpecifiedName()
		if short := unknown.GetSpecifiedShortnames(); short != "" && isNumber(short) {
			// A negative number, read as a cluster of short flags.
			if arg := cmd.Annotations[numberArg]; arg != "" {
				return smartlic.Invalid(arg, "must not be negative (got -%s)", short)
			}
			return smartlic.Invalid("", "-%s is not a flag, and negative numbers are not accepted here", short)
		}
		if unknown.GetSpecifiedShortnames() != "" {
			return smartlic.Invalid("-"+name, "unknown flag")
		}
		return smartlic.Invalid("--"+name, "unknown flag%s", flagSuggestion(cmd, name))
	}
	return smartlic.Invalid("", "%v", err)
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// group is a noun or sub-noun: it shows its help, and refuses a verb it
// does not have instead of silently showing help.
func group(use, short string, children ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(children...)
	return cmd
}

// args checks positional arguments by name, so the error says which one
// is missing.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) == len(names) {
			return nil
		}
		if len(got) < len(names) {
			return smartlic.Invalid(names[len(got)], "is required: usage: %s", cmd.UseLine())
		}
		return smartlic.Invalid("", "unexpected argument %q: usage: %s", got[len(names)], cmd.UseLine())
	}
}

// pageFlags are --limit, --after and --all of list commands.
type pageFlags struct {
	limit int
	after string
	all   bool
}

func (pf *pageFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&pf.limit, "limit", 0, fmt.Sprintf("items per page, 1-%d (default: the server's, %d)", smartlic.MaxPageLimit, smartlic.DefaultPageLimit))
	cmd.Flags().StringVar(&pf.after, "after", "", "cursor from a previous page's \"more: --after\" line")
	cmd.Flags().BoolVar(&pf.all, "all", false, "follow cursors to the last page")
}

// fetch lists one page, or with --all every page from --after on.
func fetch[T any](ctx context.Context, cmd *cobra.Command, pf *pageFlags, list func(context.Context, smartlic.Page) ([]T, string, error)) ([]T, string, error) {
	if cmd.Flags().Changed("limit") && (pf.limit < 1 || pf.limit > smartlic.MaxPageLimit) {
		return nil, "", smartlic.Invalid("--limit", "must be between 1 and %d (got %d)", smartlic.MaxPageLimit, pf.limit)
	}
	page := smartlic.Page{Limit: pf.limit, After: pf.after}
	var all []T
	for {
		items, next, err := list(ctx, page)
		if err != nil {
			return nil, "", err
		}
		all = append(all, items...)
		if !pf.all || next == "" {
			return all, next, nil
		}
		if next == page.After {
			// A server that hands back the cursor it was given would loop forever.
			return nil, "", smartlic.Errorf(smartlic.EInternal, "", "server returned the same cursor %q twice", next)
		}
		page.After = next
	}
}

// showList prints a page and, for people, how to get the next one. The hint
// goes to stderr so that stdout stays the table.
func showList[T any](f *clientFlags, p printer, items []T, next string, t table[T]) error {
	if err := printList(p, items, next, t); err != nil {
		return err
	}
	if !p.json && next != "" {
		fmt.Fprintf(f.e.stderr, "more: --after %s\n", next)
	}
	return nil
}

// parseDate reads --starts/--ends: RFC 3339, or a day (midnight UTC).
func parseDate(flag, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return &t, nil
	}
	return nil, smartlic.Invalid(flag, "must be a date such as 2025-12-31 or 2025-12-31T00:00:00Z (got %q)", s)
}
