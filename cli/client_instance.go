package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var instanceTable = table[smartlic.Instance]{
	header: []string{"UDI", "HOSTNAME", "MODE", "AUTHORIZATION", "POOL NOW", "LAST CONTACT", "ID"},
	row: func(i smartlic.Instance) []string {
		return []string{i.UDI.String(), i.Hostname, string(i.Mode), human(i.Authorization), orDash(human(i.PoolStatus)), fmtTime(i.LastContactAt), i.ID}
	},
}

// usageTable shows each line as the last authorization answered it
// (STATUS) beside its pool's status now, which a deposit or transfer may
// have changed before the instance renews.
var usageTable = table[smartlic.Usage]{
	header: []string{"LICENSE", "COUNT", "STATUS", "POOL NOW"},
	row: func(u smartlic.Usage) []string {
		return []string{u.LicenseTag, fmtInt(u.Count), human(u.Status), orDash(human(u.PoolStatus))}
	},
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newInstanceCmd(f *clientFlags) *cobra.Command {
	var s scope
	list := newListInCmd(f, &s, "List a Virtual Account's product instances", instanceTable,
		func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.Instance, string, error) {
			got, next, err := a.ListInstances(ctx, sa, s.va, p)
			if err == nil && len(got) == 0 && p.After == "" && !s.vaChanged && s.va == smartlic.DefaultVAName {
				// An empty DEFAULT is the usual first sight of a newcomer whose
				// devices registered with a token of another VA.
				fmt.Fprintf(f.e.stderr, "No product instances in Virtual Account %q; instances of the whole account: `smartlic report instances`, or pass --va NAME (`smartlic va list`).\n", s.va)
			}
			return got, next, err
		})
	list.PreRun = func(cmd *cobra.Command, _ []string) { s.vaChanged = cmd.Flags().Changed("va") }
	cmd := group("instance", "Show and remove registered product instances",
		list,
		&cobra.Command{
			Use:     "get ID|UDI",
			Aliases: []string{"show"},
			Short:   "Show a product instance (of any Virtual Account unless --va is given), the licenses it uses and, under Using Policy, its reporting state",
			Args:    args("ID|UDI"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
					got, err := a.GetInstance(ctx, sa, s.vaGiven(cmd), argv[0])
					if err != nil {
						return err
					}
					if err := printOne(p, got, instanceTable); err != nil || p.json {
						return err
					}
					if len(got.Usage) == 0 {
						fmt.Fprintln(p.w, "\nNo license usage reported.")
					} else {
						fmt.Fprintln(p.w)
						if err := printList(p, got.Usage, "", usageTable); err != nil {
							return err
						}
					}
					return printReporting(p, got.Reporting)
				})
			},
		},
		&cobra.Command{
			Use:   "remove ID|UDI",
			Short: "Remove a product instance (of any Virtual Account unless --va is given) and return its licenses to the pool",
			Args:  args("ID|UDI"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
					if err := a.RemoveInstance(ctx, sa, s.vaGiven(cmd), argv[0]); err != nil {
						return err
					}
					if !p.json {
						fmt.Fprintf(p.w, "Removed product instance %s; its licenses are back in the pool.\n", argv[0])
					}
					return nil
				})
			},
		},
	)
	s.registerAccount(cmd)
	s.registerVA(cmd)
	return cmd
}
