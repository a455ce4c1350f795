package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// defaultStateDir is where a simulated instance keeps its state when
// --state-dir is not given: one directory per instance, so several
// instances run from one machine with one directory each.
const defaultStateDir = "./smartlic-device"

// deviceFlags are the flags every device subcommand shares.
type deviceFlags struct {
	e        *env
	stateDir string
	server   string
	output   string
	offset   clockOffset
}

// newDeviceCmd is the product-instance simulator: a reference product built
// on the agent library, with the commands a network engineer knows from
// IOS-XE (register idtoken, show license summary/usage/status/udi).
func newDeviceCmd(e *env) *cobra.Command {
	f := &deviceFlags{e: e}
	cmd := group("device", "Simulate a product instance: register with a token, use licenses, show license status")
	cmd.Long = `Simulate a product instance that speaks classic Smart Licensing to a smartlic
server, the way a switch or router does. Each instance keeps its state (its
UDI, key, ID certificate, authorization and usage) in its own directory, so
several instances can run from one machine:

  smartlic device --state-dir sw1 init --pid C9300-24T --sn FOC2231X0AB --hostname sw1
  smartlic device --state-dir sw1 use network-advantage 1      # evaluation mode
  smartlic device --state-dir sw1 register idtoken TOKEN       # or --token TOKEN
  smartlic device --state-dir sw1 show license summary

The simulator uses the system clock (moved by --clock-offset, for a demo
against a server started with the same offset) and has no background
timer: run "renew" to do what a product would do on its daily tick.`
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.stateDir, "state-dir", defaultStateDir, "directory holding this instance's state (one per instance)")
	pf.StringVar(&f.server, "server", "", "manager URL (env "+envServer+", default "+defaultServer+")")
	pf.StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	f.offset.register(cmd, true, "the instance")
	cmd.SetFlagErrorFunc(flagError)
	cmd.AddCommand(
		f.initCmd(),
		f.registerCmd(),
		f.useCmd(),
		f.renewCmd(),
		f.deregisterCmd(),
		f.convertCmd(),
		f.slacCmd(),
		f.throughputCmd(),
		f.configureCmd(),
		f.licenseCmd(),
		group("show", "Show licensing information", f.showLicenseCmd()),
	)
	return cmd
}

// printer checks --output.
func (f *deviceFlags) printer() (printer, error) {
	switch f.output {
	case "table":
		return printer{w: f.e.stdout}, nil
	case "json":
		return printer{w: f.e.stdout, json: true}, nil
	}
	return printer{}, smartlic.Invalid("--output", "must be table or json (got %q)", f.output)
}

// serverURL resolves --server, then SMARTLIC_SERVER, then the default.
func (f *deviceFlags) serverURL() (string, error) {
	server := f.server
	if server == "" {
		server = f.e.getenv(envServer)
	}
	if server == "" {
		server = defaultServer
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", smartlic.Invalid("--server", "must be an http:// or https:// URL such as %s (got %q)", defaultServer, server)
	}
	return strings.TrimRight(server, "/"), nil
}

// open opens the instance in --state-dir. With a zero udi the state must
// exist; init passes the UDI to create it.
func (f *deviceFlags) open(udi smartlic.UDI, hostname string) (*agent.Agent, printer, error) {
	return f.openWith(agent.Options{UDI: udi, Hostname: hostname})
}

// openWith opens the instance with opts, filling in the connection and
// the state directory.
func (f *deviceFlags) openWith(opts agent.Options) (*agent.Agent, printer, error) {
	p, err := f.printer()
	if err != nil {
		return nil, p, err
	}
	server, err := f.serverURL()
	if err != nil {
		return nil, p, err
	}
	opts.Server, opts.HTTPClient, opts.Store, opts.Clock = server, &http.Client{Timeout: requestTimeout}, agent.FileState(f.stateDir), f.offset.clock()
	a, err := agent.New(opts)
	if errors.Is(err, agent.ErrNoState) {
		return nil, p, smartlic.Errorf(smartlic.ENotFound, "--state-dir",
			"no simulated instance in %s: run \"smartlic device --state-dir %s init --pid PID --sn SN\" first", f.stateDir, f.stateDir)
	}
	return a, p, err
}

// reach explains a manager that did not answer, as the API client does.
func (f *deviceFlags) reach(err error) error {
	var unreachable *url.Error
	if errors.As(err, &unreachable) && smartlic.ErrorCode(err) == smartlic.EInternal {
		server, _ := f.serverURL()
		return fmt.Errorf("cannot reach the smartlic server at %s (set --server or %s): %w", server, envServer, err)
	}
	return err
}

func (f *deviceFlags) initCmd() *cobra.Command {
	var pid, sn, hostname, mode string
	var enforced, export []string
	cmd := &cobra.Command{
		Use:   "init --pid PID [--sn SN] [--hostname NAME] [--mode registration|policy]",
		Short: "Create a simulated product instance in --state-dir",
		Long: `Create a simulated product instance in --state-dir. Its UDI is PID:SN; the
product ID must be in the server's catalogue for the instance to register.
Without --sn a random serial number (SIM followed by 8 hex digits) is chosen,
so many instances can be made from one script. The instance starts
unregistered; its 90-day evaluation period starts when it first uses a
license.

With --mode policy the instance runs Smart Licensing Using Policy instead: no
registration and no evaluation; it uses licenses at once and reports their
use (license smart trust, sync, save usage, import). --enforced and
--export-controlled name the product's licenses it refuses to use without an
authorization code.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pid == "" {
				return smartlic.Invalid("--pid", "is required: the product ID, as in the catalogue (e.g. C9300-24T)")
			}
			if sn == "" {
				b := make([]byte, 4)
				if _, err := rand.Read(b); err != nil {
					return smartlic.Internal(err, "choosing a serial number")
				}
				sn = "SIM" + strings.ToUpper(hex.EncodeToString(b))
			}
			udi := smartlic.UDI{PID: pid, SN: sn}
			if err := udi.Validate("--pid/--sn"); err != nil {
				return err
			}
			if err := smartlic.ValidateHostname("--hostname", hostname); err != nil {
				return err
			}
			if _, err := agent.FileState(f.stateDir).Load(); !errors.Is(err, agent.ErrNoState) {
				if err != nil {
					return err
				}
				return smartlic.Errorf(smartlic.EConflict, "--state-dir", "%s already holds a simulated instance; use another --state-dir for another instance", f.stateDir)
			}
			opts := agent.Options{UDI: udi, Hostname: hostname}
			switch mode {
			case "", "registration":
			case "policy":
				opts.Mode = agent.ModePolicy
				restricted, err := restrictedFlags(enforced, export)
				if err != nil {
					return err
				}
				opts.Restricted = restricted
			default:
				return smartlic.Invalid("--mode", "must be registration or policy (got %q)", mode)
			}
			a, p, err := f.openWith(opts)
			if err != nil {
				return err
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, st)
			}
			if st.Mode == agent.ModePolicy {
				fmt.Fprintf(p.w, "Created product instance %s in %s\n", udiLine(st.UDI), f.stateDir)
				fmt.Fprintf(p.w, "Smart Licensing Using Policy is ENABLED: licenses are in use at once; establish trust to report (license smart trust idtoken TOKEN, or import a trust file).\n")
				return nil
			}
			fmt.Fprintf(p.w, "Created product instance %s in %s\n", udiLine(st.UDI), f.stateDir)
			fmt.Fprintf(p.w, "Smart Licensing is ENABLED; the instance is UNREGISTERED.\n")
			fmt.Fprintf(p.w, "Evaluation Period Remaining: %s (starts at the first license use)\n", remaining(st.Evaluation.RemainingSeconds))
			return nil
		},
	}
	cmd.Flags().StringVar(&pid, "pid", "", "product ID, as in the catalogue (e.g. C9300-24T)")
	cmd.Flags().StringVar(&sn, "sn", "", "serial number (default: random SIMxxxxxxxx)")
	cmd.Flags().StringVar(&hostname, "hostname", "", "host name reported at registration")
	cmd.Flags().StringVar(&mode, "mode", "registration", "licensing mode: registration (classic Smart Licensing) or policy (Smart Licensing Using Policy)")
	cmd.Flags().StringArrayVar(&enforced, "enforced", nil, "policy mode: an enforced license of the product (repeat)")
	cmd.Flags().StringArrayVar(&export, "export-controlled", nil, "policy mode: an export-controlled license of the product (repeat)")
	return cmd
}

func (f *deviceFlags) registerCmd() *cobra.Command {
	var token string
	var force bool
	cmd := &cobra.Command{
		Use:   "register (--token TOKEN | idtoken TOKEN) [--force | force]",
		Short: "Register with a registration token, then ask for authorization of the licenses in use",
		Long: `Register the instance with a registration token from a Virtual Account, then
ask for authorization of the licenses in use, as "license smart register
idtoken TOKEN [force]" does on IOS-XE. Force re-registers an instance that is
already registered (here or on the manager).`,
		Example: "  smartlic device register --token slt_...\n  smartlic device register idtoken slt_... force",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return nil
			case args[0] != "idtoken" || len(args) < 2:
				return smartlic.Invalid("token", "usage: %s", cmd.UseLine())
			case len(args) == 3 && args[2] == "force", len(args) == 2:
				return nil
			}
			return smartlic.Invalid("", "unexpected argument %q: usage: %s", args[len(args)-1], cmd.UseLine())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				if token != "" {
					return smartlic.Invalid("--token", "give the token once: either --token or idtoken")
				}
				token, force = args[1], force || len(args) == 3
			}
			if strings.TrimSpace(token) == "" {
				return smartlic.Invalid("--token", "a registration token is required: usage: %s", cmd.UseLine())
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := a.Register(ctx, token, force); err != nil {
				return f.reach(err)
			}
			authErr := a.Authorize(ctx)
			st := a.Status()
			if p.json {
				if err := writeJSON(p.w, st); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(p.w, "Registration: SUCCEEDED\n")
				writeSummary(p.w, st)
			}
			if authErr != nil {
				return fmt.Errorf("registered, but the authorization request failed (run \"smartlic device renew --auth\" to retry): %w", f.reach(authErr))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "registration token")
	cmd.Flags().BoolVar(&force, "force", false, "re-register even if already registered")
	return cmd
}

func (f *deviceFlags) useCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "use TAG COUNT",
		Short: "Set how many licenses of a type the instance uses (0 stops using it)",
		Long: `Set how many licenses of a type (by entitlement tag) the instance uses; 0
stops using it. A registered instance asks for authorization at once; an
unregistered one runs in evaluation mode, whose 90 days start at the first
use. A license the server refuses (a tag the product may not consume, or
one it does not know) is dropped from the usage, so it cannot block later
requests; "show license summary" lists what was dropped and why.`,
		Args:        args("TAG", "COUNT"),
		Annotations: map[string]string{numberArg: "COUNT"},
		RunE: func(cmd *cobra.Command, args []string) error {
			count, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				return smartlic.Invalid("COUNT", "must be a whole number (got %q)", args[1])
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			tag := args[0]
			before := a.Status()
			if err := a.SetUsage(tag, count); err != nil {
				return err
			}
			if before.Mode == agent.ModePolicy {
				return f.usePolicy(cmd, a, p, tag)
			}
			var authErr error
			if before.Mode == agent.ModeRegistered {
				authErr = a.Authorize(cmd.Context())
				// The agent drops a line the manager refuses outright
				// (agent.DroppedUsage) and asks again without it.
				if d, ok := droppedTag(a.Status(), tag); ok {
					return droppedError(d, usedCount(before, tag))
				}
				if refusedUsage(authErr) && count > usedCount(before, tag) {
					// A refusal the agent could not pin on one line: kept,
					// the raise would be sent again with every renewal and
					// fail each one, so put the previous count back. A
					// lowered count is never put back: it is what runs.
					if err := a.SetUsage(tag, usedCount(before, tag)); err != nil {
						return err
					}
					return fmt.Errorf("usage of %s not changed: the server refused it: %w", tag, authErr)
				}
			}
			st := a.Status()
			if p.json {
				if err := writeJSON(p.w, st); err != nil {
					return err
				}
			} else {
				writeUsage(p.w, st, args[0])
			}
			if authErr != nil {
				return fmt.Errorf("usage recorded, but the authorization request failed (run \"smartlic device renew --auth\" to retry): %w", f.reach(authErr))
			}
			return nil
		},
	}
}

// refusedUsage reports whether the manager refused an authorization
// request because of its usage lines (a license the product may not
// consume, or one the catalogue does not have), rather than failing to
// answer.
func refusedUsage(err error) bool {
	field := smartlic.ErrorField(err)
	return err != nil && (field == "usage" || strings.HasPrefix(field, "usage.")) &&
		(smartlic.ErrorCode(err) == smartlic.EInvalid || smartlic.ErrorCode(err) == smartlic.ENotFound)
}

// usedCount is how many licenses of tag the instance used in st.
func usedCount(st agent.Status, tag string) int64 {
	for _, l := range st.Licenses {
		if l.Tag == tag {
			return l.Count
		}
	}
	return 0
}

func (f *deviceFlags) renewCmd() *cobra.Command {
	var id, auth bool
	cmd := &cobra.Command{
		Use:   "renew [--id] [--auth]",
		Short: "Renew what is due: the ID certificate after 180 days, the authorization after 30 days or a usage change",
		Long: `Renew what is due: the ID certificate once 180 days have passed since it was
issued, the authorization once 30 days have passed, or when the usage changed
since the last one. --id and --auth renew those now, due or not. A product
does this on a timer; the simulator does it when told.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if a.Status().Policy != nil {
				return policyNotRenewed()
			}
			ctx := cmd.Context()
			var done agent.Renewed
			var errs []error
			switch {
			case id || auth:
				if id {
					if err := a.RenewIDCert(ctx); err != nil {
						errs = append(errs, err)
					} else {
						done.IDCert = true
					}
				}
				if auth {
					if err := a.Authorize(ctx); err != nil {
						errs = append(errs, err)
					} else {
						done.Authorization = true
					}
				}
			default:
				done, err = a.Renew(ctx)
				if err != nil {
					errs = append(errs, err)
				}
			}
			st := a.Status()
			if st.Registration == nil {
				return smartlic.Errorf(smartlic.ENotRegistered, "", "this instance is not registered; register it first (smartlic device register --token TOKEN)")
			}
			if p.json {
				if err := writeJSON(p.w, struct {
					Renewed agent.Renewed `json:"renewed"`
					Status  agent.Status  `json:"status"`
				}{done, st}); err != nil {
					return err
				}
			} else {
				writeRenewal(p.w, st, done)
			}
			if err := errors.Join(errs...); err != nil {
				return f.reach(err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&id, "id", false, "renew the ID certificate now")
	cmd.Flags().BoolVar(&auth, "auth", false, "renew the authorization now")
	return cmd
}

func (f *deviceFlags) deregisterCmd() *cobra.Command {
	return f.actionCmd("deregister", "Deregister the instance, releasing its licenses; it returns to evaluation mode",
		(*agent.Agent).Deregister, writeSummary, "Deregistration: SUCCEEDED; the licenses were released.\n")
}

// actionCmd is a command of no arguments that has the instance do one
// thing with the manager and then shows its standing (showAfter).
func (f *deviceFlags) actionCmd(use, short string, act func(*agent.Agent, context.Context) error, summary func(io.Writer, agent.Status), headline string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if err := act(a, cmd.Context()); err != nil {
				return f.reach(err)
			}
			return showAfter(p, a, summary, "%s", headline)
		},
	}
}

// showAfter shows the instance's standing after an action: its status as
// JSON, or the headline (a format and its arguments) and then summary
// (writeSummary, or writePolicySummary under Using Policy).
func showAfter(p printer, a *agent.Agent, summary func(io.Writer, agent.Status), headline string, args ...any) error {
	st := a.Status()
	if p.json {
		return writeJSON(p.w, st)
	}
	fmt.Fprintf(p.w, headline, args...)
	summary(p.w, st)
	return nil
}

// showKinds are the arguments of "show license".
var showKinds = []string{"summary", "usage", "status", "udi"}

func (f *deviceFlags) showLicenseCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "license {summary|usage|status|udi}",
		Short:     "Show the instance's licensing, as IOS-XE's show license does",
		ValidArgs: showKinds,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(showKinds, args[0]) {
				return smartlic.Invalid("", "usage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, st)
			}
			if st.Mode == agent.ModePolicy {
				server, _ := f.serverURL()
				switch args[0] {
				case "summary":
					writePolicySummary(p.w, st)
				case "usage":
					writePolicyUsage(p.w, st, "")
				case "status":
					writePolicyStatus(p.w, st, server)
				case "udi":
					fmt.Fprintf(p.w, "UDI: %s\n", udiLine(st.UDI))
				}
				return nil
			}
			switch args[0] {
			case "summary":
				writeSummary(p.w, st)
			case "usage":
				writeUsage(p.w, st, "")
			case "status":
				server, _ := f.serverURL()
				writeStatus(p.w, st, server)
			case "udi":
				fmt.Fprintf(p.w, "UDI: %s\n", udiLine(st.UDI))
			}
			return nil
		},
	}
}

// The show output follows IOS-XE's layout and words, so people and
// scripts used to a switch read it without a manual.

// udiLine is a UDI as IOS-XE prints it.
func udiLine(u smartlic.UDI) string { return "PID:" + u.PID + ",SN:" + u.SN }

// iosTime is a moment as IOS-XE prints it, in UTC.
func iosTime(t time.Time) string { return t.UTC().Format("Jan 02 15:04:05 2006 MST") }

// remaining is a duration as IOS-XE's evaluation countdown prints it.
func remaining(seconds int64) string {
	d, h, m, s := seconds/86400, seconds%86400/3600, seconds%3600/60, seconds%60
	return fmt.Sprintf("%d days, %d hours, %d minutes, %d seconds", d, h, m, s)
}

func licenseLabel(s agent.LicenseState) string {
	switch s {
	case agent.LicenseAuthorized:
		return "AUTHORIZED"
	case agent.LicenseOutOfCompliance:
		return "OUT OF COMPLIANCE"
	case agent.LicenseNotAuthorized:
		return "NOT AUTHORIZED"
	case agent.LicensePending:
		return "AUTHORIZATION PENDING"
	case agent.LicenseAuthorizationExpired:
		return "AUTHORIZATION EXPIRED"
	case agent.LicenseEvaluation:
		return "EVALUATION"
	case agent.LicenseEvaluationExpired:
		return "EVALUATION EXPIRED"
	}
	return strings.ToUpper(human(s))
}

// registrationLabel is the Registration: Status: line.
func registrationLabel(st agent.Status) string {
	switch {
	case st.Registration == nil:
		return "UNREGISTERED"
	case st.Registration.Expired:
		return "REGISTRATION EXPIRED on " + iosTime(st.Registration.IDCertExpiresAt)
	}
	return "REGISTERED"
}

// authorizationLabel is the License Authorization: Status: line.
func authorizationLabel(st agent.Status) string {
	a := st.Authorization
	switch {
	case a == nil && st.Mode == agent.ModeReserved:
		return "AUTHORIZED - RESERVED"
	case a == nil && st.Mode == agent.ModeEvaluationExpired:
		return "EVALUATION EXPIRED on " + iosTime(*st.Evaluation.ExpiresAt)
	case a == nil:
		return "EVALUATION MODE"
	case a.Status == smartlic.AuthPending:
		return "AUTHORIZATION PENDING"
	case a.Status == smartlic.AuthExpired:
		return "AUTHORIZATION EXPIRED on " + iosTime(*a.ExpiresAt)
	case a.Status == smartlic.AuthOOC:
		return "OUT OF COMPLIANCE on " + iosTime(*a.IssuedAt)
	}
	return "AUTHORIZED on " + iosTime(*a.IssuedAt)
}

// attemptLine is a "Last ... Attempt" value.
func attemptLine(a *agent.Attempt) string {
	switch {
	case a == nil:
		return "None"
	case a.Succeeded():
		return "SUCCEEDED on " + iosTime(a.At)
	}
	msg := a.Code
	if a.Message != "" {
		msg += ": " + a.Message
	}
	return "FAILED on " + iosTime(a.At) + " (" + msg + ")"
}

// nextAttempt is a "Next ... Attempt" value: the renew-after time, or
// "due now" once it has passed.
func nextAttempt(due bool, at *time.Time) string {
	if due || at == nil {
		return "due now (smartlic device renew)"
	}
	return iosTime(*at)
}

func smartAccountLine(r *agent.RegistrationStatus) string {
	if r.SmartAccountName == "" {
		return r.SmartAccount
	}
	return r.SmartAccountName + " (" + r.SmartAccount + ")"
}

// writeEvaluation writes the evaluation lines of an unregistered instance.
func writeEvaluation(w io.Writer, st agent.Status, indent string) {
	ev := st.Evaluation
	switch {
	case ev.Expired:
		fmt.Fprintf(w, "%sEvaluation Mode: Expired\n", indent)
	case ev.InUse:
		fmt.Fprintf(w, "%sEvaluation Mode: In Use\n", indent)
	default:
		fmt.Fprintf(w, "%sEvaluation Mode: Not In Use\n", indent)
	}
	fmt.Fprintf(w, "%sEvaluation Period Remaining: %s\n", indent, remaining(ev.RemainingSeconds))
}

// writeSummary is "show license summary".
func writeSummary(w io.Writer, st agent.Status) {
	fmt.Fprintf(w, "Smart Licensing is ENABLED\n\nRegistration:\n  Status: %s\n", registrationLabel(st))
	if r := st.Registration; r != nil {
		fmt.Fprintf(w, "  Smart Account: %s\n  Virtual Account: %s\n", smartAccountLine(r), r.VirtualAccount)
		fmt.Fprintf(w, "  Last Renewal Attempt: %s\n", attemptLine(r.LastRenewal))
		fmt.Fprintf(w, "  Next Renewal Attempt: %s\n", nextAttempt(r.RenewalDue, &r.IDCertRenewAfter))
	} else if la := st.LastAttempt; la != nil && la.Operation == agent.OpRegister && !la.Succeeded() {
		fmt.Fprintf(w, "  Last Registration Attempt: %s\n", attemptLine(la))
	}
	fmt.Fprintf(w, "\nLicense Authorization:\n  Status: %s\n", authorizationLabel(st))
	if a := st.Authorization; a != nil {
		fmt.Fprintf(w, "  Last Communication Attempt: %s\n", attemptLine(a.LastAttempt))
		fmt.Fprintf(w, "  Next Communication Attempt: %s\n", nextAttempt(a.RenewalDue, a.RenewAfter))
	} else {
		writeEvaluation(w, st, "  ")
	}
	fmt.Fprintf(w, "\n")
	writeProduct(w, st)
	writeDropped(w, st)
	fmt.Fprintf(w, "\nLicense Usage:\n")
	if len(st.Licenses) == 0 {
		fmt.Fprintf(w, "  No licenses in use.\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  License\tCount\tStatus\tEnforcement\tAllowed\n")
	for _, l := range st.Licenses {
		allowed := "NO"
		if l.Decision.Allowed {
			allowed = "YES"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s: %s\n", l.Tag, l.Count, licenseLabel(l.Status), enforcementLabel(l.Enforcement), allowed, l.Decision.Reason)
	}
	_ = tw.Flush()
}

// writeUsage is "show license usage"; with only set, just that license.
func writeUsage(w io.Writer, st agent.Status, only string) {
	fmt.Fprintf(w, "License Authorization:\n  Status: %s\n", authorizationLabel(st))
	if st.Authorization == nil && !st.Evaluation.Expired {
		fmt.Fprintf(w, "  Evaluation Period Remaining: %s\n", remaining(st.Evaluation.RemainingSeconds))
	}
	shown := false
	for _, l := range st.Licenses {
		if only != "" && l.Tag != only {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n  Count: %d\n  Status: %s\n", l.Tag, l.Count, licenseLabel(l.Status))
		shown = true
	}
	switch {
	case only != "" && !shown:
		fmt.Fprintf(w, "\n%s:\n  Count: 0 (not in use)\n", only)
	case !shown:
		fmt.Fprintf(w, "\nNo licenses in use.\n")
	}
	writeDropped(w, st)
}

// writeStatus is "show license status".
func writeStatus(w io.Writer, st agent.Status, server string) {
	fmt.Fprintf(w, "Smart Licensing is ENABLED\n\nTransport:\n  Type: Smart\n  URL: %s\n", server)
	fmt.Fprintf(w, "\nRegistration:\n  Status: %s\n", registrationLabel(st))
	if r := st.Registration; r != nil {
		fmt.Fprintf(w, "  Smart Account: %s\n  Virtual Account: %s\n", smartAccountLine(r), r.VirtualAccount)
		fmt.Fprintf(w, "  Instance ID: %s\n", r.InstanceID)
		fmt.Fprintf(w, "  Initial Registration: SUCCEEDED on %s\n", iosTime(r.RegisteredAt))
		fmt.Fprintf(w, "  ID Certificate Issued: %s\n", iosTime(r.IDCertIssuedAt))
		fmt.Fprintf(w, "  Last Renewal Attempt: %s\n", attemptLine(r.LastRenewal))
		fmt.Fprintf(w, "  Next Renewal Attempt: %s\n", nextAttempt(r.RenewalDue, &r.IDCertRenewAfter))
		fmt.Fprintf(w, "  Registration Expires: %s\n", iosTime(r.IDCertExpiresAt))
	} else if la := st.LastAttempt; la != nil && la.Operation == agent.OpRegister && !la.Succeeded() {
		fmt.Fprintf(w, "  Last Registration Attempt: %s\n", attemptLine(la))
	}
	fmt.Fprintf(w, "\nLicense Authorization:\n  Status: %s\n", authorizationLabel(st))
	if a := st.Authorization; a != nil {
		fmt.Fprintf(w, "  Last Communication Attempt: %s\n", attemptLine(a.LastAttempt))
		fmt.Fprintf(w, "  Next Communication Attempt: %s\n", nextAttempt(a.RenewalDue, a.RenewAfter))
		if a.ExpiresAt != nil {
			fmt.Fprintf(w, "  Communication Deadline: %s\n", iosTime(*a.ExpiresAt))
		}
	}
	fmt.Fprintf(w, "\nEvaluation Period:\n")
	writeEvaluation(w, st, "  ")
	if st.Evaluation.ExpiresAt != nil && !st.Evaluation.Expired {
		fmt.Fprintf(w, "  Evaluation Period Ends: %s\n", iosTime(*st.Evaluation.ExpiresAt))
	}
	writeKeysAndProduct(w, st, "pinned at the first registration")
}

// writeKeysAndProduct ends "show license status" in both modes: the
// manager keys the instance trusts (or when it will pin some), then the
// product.
func writeKeysAndProduct(w io.Writer, st agent.Status, pinnedWhen string) {
	fmt.Fprintf(w, "\nManager Keys Trusted:\n")
	if len(st.ManagerKeyIDs) == 0 {
		fmt.Fprintf(w, "  <none> (%s)\n", pinnedWhen)
	}
	for _, id := range st.ManagerKeyIDs {
		fmt.Fprintf(w, "  %s\n", id)
	}
	fmt.Fprintf(w, "\nProduct Information:\n  UDI: %s\n", udiLine(st.UDI))
	if st.Hostname != "" {
		fmt.Fprintf(w, "  Hostname: %s\n", st.Hostname)
	}
}

// writeRenewal says what "renew" did, then the summary.
func writeRenewal(w io.Writer, st agent.Status, done agent.Renewed) {
	line := func(renewed, due bool, next *time.Time) string {
		switch {
		case renewed:
			return "RENEWED"
		case due:
			return "due, not renewed"
		}
		return "not due until " + iosTime(*next)
	}
	r, a := st.Registration, st.Authorization
	fmt.Fprintf(w, "ID Certificate: %s\n", line(done.IDCert, r.RenewalDue, &r.IDCertRenewAfter))
	fmt.Fprintf(w, "Authorization: %s\n\n", line(done.Authorization, a.RenewalDue, a.RenewAfter))
	writeSummary(w, st)
}
