// Package cli is the smartlic command line: serve, admin, the API client
// nouns and the device simulator. Main runs the whole program in-process,
// so tests drive it exactly as a user would.
package cli

import (
	"context"
	"errors"
	"io"
	"os"
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
	if !ok || cmd == nil || e.Field == "" {
		return err
	}
	for _, name := range flagsOfField(e.Field) {
		if cmd.Flags().Lookup(name) != nil {
			named := *e
			named.Field = "--" + name
			return &named
		}
	}
	return err
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
	case "licenses":
		names = append(names, "license")
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
