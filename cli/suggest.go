package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smartlic/smartlic"
)

// unknownCommand refuses a verb or noun cmd does not have as bad input
// (exit 2), with cobra's "did you mean" when it can find one.
func unknownCommand(cmd *cobra.Command, arg string) error {
	msg := fmt.Sprintf("unknown command %q for %q", arg, cmd.CommandPath())
	// cobra sets the distance on the root only, while it looks up a command.
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(arg); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", strings.Join(s, `" or "`))
	}
	return smartlic.Invalid("", "%s; see %q", msg, cmd.CommandPath()+" --help")
}

// refusedByCobra turns the plain errors cobra returns for input it refuses
// itself (an unknown command of the root) into invalid errors, so they exit
// 2 like every other refused input.
func refusedByCobra(root, cmd *cobra.Command, args []string, err error) error {
	var e *smartlic.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	if strings.HasPrefix(err.Error(), "unknown command ") {
		if cmd == nil {
			cmd = root
		}
		// cobra names the first word that is not a command of cmd.
		for _, a := range args {
			if !strings.HasPrefix(a, "-") && cmd.Name() != a {
				if found, _, ferr := cmd.Find([]string{a}); ferr != nil || found == cmd {
					return unknownCommand(cmd, a)
				}
			}
		}
		return smartlic.Invalid("", "%v", err)
	}
	return err
}

// flagSuggestion is " (did you mean --x?)" for the flag of cmd nearest to
// name, or "" when none is near.
func flagSuggestion(cmd *cobra.Command, name string) string {
	best, bestD := "", 3
	visit := func(f *pflag.Flag) {
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 2 {
			d = 1
		}
		if d < bestD || (d == bestD && f.Name < best) {
			best, bestD = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" || best == name {
		return ""
	}
	return fmt.Sprintf("; did you mean --%s?", best)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// refuseUnknownVerbs makes every noun without a run of its own (as group
// makes them) refuse an unknown verb, where cobra would show help and
// exit 0.
func refuseUnknownVerbs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownVerbs(c)
	}
	if cmd.HasParent() && cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		}
	}
}
