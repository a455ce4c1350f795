// Package cli is the smartlic command line: serve, admin, the API client
// nouns and the device simulator. Main runs the whole program in-process,
// so tests drive it exactly as a user would.
package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// env is what every command reads instead of globals.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stdin is what login reads an e-mail and a password from.
	stdin io.Reader
	// wait pauses between polls of `login --web`; nil waits on a timer.
	// Tests pass one that acts as the user and moves the fake clock.
	wait func(ctx context.Context, d time.Duration) error
	// ready, when set, is told the address a server listens on (tests).
	ready func(addr string)
}

// Main runs smartlic with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, stdin: os.Stdin})
}

func run(ctx context.Context, args []string, e *env) error {
	root := &cobra.Command{
		Use:           "smartlic",
		Short:         "Smart software licensing: server, API client and device simulator",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetArgs(args)
	// Every command refuses an unknown or malformed flag the same way
	// (exit 2, the flag named, the nearest flag suggested).
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newServeCmd(e),
		newAdminCmd(e),
		newDeviceCmd(e),
	)
	addClientCommands(root, e)
	addEventCommands(root, e)
	addUserCommands(root, e)
	addTransferCommands(root, e)
	addReservationCommands(root, e)
	addReportCommands(root, e)
	addAlertCommands(root, e)
	addConversionCommands(root, e)
	addLoginCommands(root, e)
	addSearchCommand(root, e)
	addSLACCommands(root, e)
	addPolicyCommands(root, e)
	addUsageCommands(root, e)
	refuseUnknownVerbs(root)
	cmd, err := root.ExecuteContextC(ctx)
	return nameTheFlag(cmd, refusedByCobra(root, cmd, args, err))
}

// nameTheFlag makes an error about an input name the flag the user typed
// (--ends) rather than the API field it became (ends_at), when the command
// that ran has such a flag. Errors about anything else pass unchanged.
func nameTheFlag(cmd *cobra.Command, err error) error {
	e, ok := err.(*smartlic.Error)
	if !ok || cmd == nil {
		return err
	}
	named := *e
	// A rule about two inputs names the other in its message
	// ("must be after starts_at"): name that one as its flag too.
	named.Message = apiField.ReplaceAllStringFunc(e.Message, func(field string) string {
		if flag := flagOfField(cmd, field); flag != "" {
			return flag
		}
		return field
	})
	if flag := flagOfField(cmd, e.Field); flag != "" {
		named.Field = flag
	}
	if named.Message == e.Message && named.Field == e.Field {
		return err
	}
	return &named
}

// apiField matches an API field name in a message: snake_case, which no
// English word of a message is.
var apiField = regexp.MustCompile(`\b[a-z]+(?:_[a-z]+)+\b`)

// flagOfField is "--flag" when cmd has a flag that carries the API field,
// else "".
func flagOfField(cmd *cobra.Command, field string) string {
	if field == "" || strings.HasPrefix(field, "-") {
		return ""
	}
	for _, name := range flagsOfField(field) {
		if name != "" && cmd.Flags().Lookup(name) != nil {
			return "--" + name
		}
	}
	return ""
}

// flagsOfField lists the flag names that may carry an API field: the
// field itself with dashes, and the shorter names some commands use.
func flagsOfField(field string) []string {
	names := []string{strings.ReplaceAll(field, "_", "-")}
	switch field {
	case "order_number":
		names = append(names, "order")
	case "starts_at":
		names = append(names, "starts")
	case "ends_at":
		names = append(names, "ends")
	case "expires_in_days":
		names = append(names, "expires-days")
	case "q":
		names = append(names, "search")
	case "request_code":
		names = append(names, "request")
	case "licenses", "tag", "license_tag":
		// A license type's tag is --tag in the catalogue and --license
		// where a license is used (slac issue, deposit create).
		names = append(names, "license")
	case "sa":
		names = append(names, "account")
	case "va", "virtual_account":
		names = append(names, "va")
	}
	// A policy rule's field (classes.enforced.first_report_days) is set by
	// policy set's flag of that rule (--first-report).
	if rest, ok := strings.CutPrefix(field, "classes."); ok {
		_, rule, _ := strings.Cut(rest, ".")
		names = append(names, policyRuleFlags[rule])
	}
	return names
}

// ExitCode maps an error to a process exit status: 2 for bad input, 1 for
// everything else.
func ExitCode(err error) int {
	var e *smartlic.Error
	if errors.As(err, &e) && e.Code == smartlic.EInvalid {
		return 2
	}
	return 1
}
