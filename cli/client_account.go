package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var accountTable = table[smartlic.SmartAccount]{
	header: []string{"NAME", "DOMAIN", "STATUS", "LIMITED USE", "CREATED", "ID"},
	row: func(sa smartlic.SmartAccount) []string {
		return []string{sa.Name, sa.Domain, string(sa.Status), yesNo(sa.LimitedUse), fmtTime(sa.CreatedAt), sa.ID}
	},
}

var vaTable = table[smartlic.VirtualAccount]{
	header: []string{"NAME", "DEPTH", "DESCRIPTION", "PARENT ID", "ID"},
	row: func(va smartlic.VirtualAccount) []string {
		return []string{va.Name, strconv.Itoa(va.Depth), va.Description, va.ParentID, va.ID}
	},
}

func newAccountCmd(f *clientFlags) *cobra.Command {
	return group("account", "Manage Smart Accounts (customer organisations)",
		newAccountCreateCmd(f),
		newAccountListCmd(f),
		newGetCmd(f, "SA", "Show a Smart Account by id or domain", accountTable,
			func(ctx context.Context, a api, sa string) (smartlic.SmartAccount, error) {
				return a.GetSmartAccount(ctx, sa)
			}),
		newAccountUpdateCmd(f),
		newAccountExportControlCmd(f),
		&cobra.Command{
			Use:   "approve SA",
			Short: "Approve a requested Smart Account",
			Args:  args("SA"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return f.run(cmd, func(ctx context.Context, a api, p printer) error {
					got, err := a.ApproveSmartAccount(ctx, argv[0])
					if err != nil {
						return err
					}
					return printOne(p, got, accountTable)
				})
			},
		},
		newAccountDenyCmd(f),
	)
}

func newAccountListCmd(f *clientFlags) *cobra.Command {
	var status string
	cmd := newListCmd(f, "List Smart Accounts", accountTable,
		func(ctx context.Context, a api, p smartlic.Page) ([]smartlic.SmartAccount, string, error) {
			return a.ListSmartAccounts(ctx, smartlic.SmartAccountFilter{Status: smartlic.SmartAccountStatus(status)}, p)
		})
	cmd.Flags().StringVar(&status, "status", "", "only accounts in this status: requested, active or denied")
	return cmd
}

func newAccountDenyCmd(f *clientFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "deny SA --reason TEXT",
		Short: "Deny a requested Smart Account (the reason goes to its event log)",
		Args:  args("SA"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				got, err := a.DenySmartAccount(ctx, argv[0], reason)
				if err != nil {
					return err
				}
				return printOne(p, got, accountTable)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the request is refused (required)")
	return cmd
}

func newAccountCreateCmd(f *clientFlags) *cobra.Command {
	var (
		sa      smartlic.SmartAccount
		approve bool
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --domain DOMAIN [--limited-use] [--approve]",
		Short: "Request a Smart Account (with its DEFAULT Virtual Account)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				sa.Status = smartlic.SARequested
				if approve {
					sa.Status = smartlic.SAActive
				}
				got, err := a.CreateSmartAccount(ctx, sa)
				if err != nil {
					return err
				}
				return printOne(p, got, accountTable)
			})
		},
	}
	cmd.Flags().StringVar(&sa.Name, "name", "", "organisation name")
	cmd.Flags().StringVar(&sa.Domain, "domain", "", "organisation domain, e.g. example.com")
	cmd.Flags().BoolVar(&sa.LimitedUse, "limited-use", false, "limited-use account (public e-mail domain; one VA level)")
	cmd.Flags().BoolVar(&approve, "approve", false, "create it active rather than requested")
	return cmd
}

func newAccountUpdateCmd(f *clientFlags) *cobra.Command {
	var (
		name       string
		limitedUse bool
	)
	cmd := &cobra.Command{
		Use:   "update SA [--name NAME] [--limited-use=true|false]",
		Short: "Change a Smart Account",
		Args:  args("SA"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var u smartlic.SmartAccountUpdate
			if cmd.Flags().Changed("name") {
				u.Name = &name
			}
			if cmd.Flags().Changed("limited-use") {
				u.LimitedUse = &limitedUse
			}
			if u == (smartlic.SmartAccountUpdate{}) {
				return smartlic.Invalid("", "nothing to update: pass --name or --limited-use")
			}
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				got, err := a.UpdateSmartAccount(ctx, argv[0], u)
				if err != nil {
					return err
				}
				return printOne(p, got, accountTable)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new organisation name")
	cmd.Flags().BoolVar(&limitedUse, "limited-use", false, "limited-use account")
	return cmd
}

func newVACmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("va", "Manage Virtual Accounts, the tree licenses are pooled in",
		newVACreateCmd(f, &s),
		newVAListCmd(f, &s),
		&cobra.Command{
			Use:   "get VA",
			Short: "Show a Virtual Account by name or id",
			Args:  args("VA"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return showIn(f, cmd, s.account, vaTable, func(ctx context.Context, a api, sa string) (smartlic.VirtualAccount, error) {
					return a.GetVirtualAccount(ctx, sa, argv[0])
				})
			},
		},
		&cobra.Command{
			Use:   "rename VA NEWNAME",
			Short: "Rename a Virtual Account",
			Args:  args("VA", "NEWNAME"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return f.updateVA(cmd, &s, argv[0], smartlic.VirtualAccountUpdate{Name: &argv[1]})
			},
		},
		newVAMoveCmd(f, &s),
		newVAUpdateCmd(f, &s),
		&cobra.Command{
			Use:   "delete VA",
			Short: "Delete an empty Virtual Account",
			Args:  args("VA"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
					if err := a.DeleteVirtualAccount(ctx, sa, argv[0]); err != nil {
						return err
					}
					if !p.json {
						fmt.Fprintf(p.w, "Deleted Virtual Account %s.\n", argv[0])
					}
					return nil
				})
			},
		},
	)
	s.registerAccount(cmd)
	return cmd
}

func (f *clientFlags) updateVA(cmd *cobra.Command, s *scope, va string, u smartlic.VirtualAccountUpdate) error {
	return showIn(f, cmd, s.account, vaTable, func(ctx context.Context, a api, sa string) (smartlic.VirtualAccount, error) {
		return a.UpdateVirtualAccount(ctx, sa, va, u)
	})
}

func newVACreateCmd(f *clientFlags, s *scope) *cobra.Command {
	var in smartlic.VirtualAccountInput
	cmd := &cobra.Command{
		Use:   "create NAME [--parent VA] [--description TEXT]",
		Short: "Create a Virtual Account, top-level or under --parent",
		Args:  args("NAME"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			in.Name = argv[0]
			return showIn(f, cmd, s.account, vaTable, func(ctx context.Context, a api, sa string) (smartlic.VirtualAccount, error) {
				return a.CreateVirtualAccount(ctx, sa, in)
			})
		},
	}
	cmd.Flags().StringVar(&in.Parent, "parent", "", "parent Virtual Account name or id (default: top level)")
	cmd.Flags().StringVar(&in.Description, "description", "", "description")
	return cmd
}

// parentFlags are --parent P and --top, the two ways to say where a VA goes.
type parentFlags struct {
	parent string
	top    bool
}

func (pf *parentFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&pf.parent, "parent", "", "new parent Virtual Account name or id")
	cmd.Flags().BoolVar(&pf.top, "top", false, "move to the top level")
}

// apply sets u.Parent from the flags; required says one of them must be given.
func (pf *parentFlags) apply(cmd *cobra.Command, u *smartlic.VirtualAccountUpdate, required bool) error {
	hasParent := cmd.Flags().Changed("parent")
	switch {
	case hasParent && pf.top:
		return smartlic.Invalid("--top", "cannot be combined with --parent")
	case hasParent && pf.parent == "":
		return smartlic.Invalid("--parent", "needs a Virtual Account; use --top to move to the top level")
	case hasParent:
		u.Parent = &pf.parent
	case pf.top:
		top := ""
		u.Parent = &top
	case required:
		return smartlic.Invalid("--parent", "is required: pass --parent VA or --top")
	}
	return nil
}

func newVAMoveCmd(f *clientFlags, s *scope) *cobra.Command {
	var pf parentFlags
	cmd := &cobra.Command{
		Use:   "move VA --parent VA|--top",
		Short: "Move a Virtual Account (with its subtree) under another, or to the top",
		Args:  args("VA"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var u smartlic.VirtualAccountUpdate
			if err := pf.apply(cmd, &u, true); err != nil {
				return err
			}
			return f.updateVA(cmd, s, argv[0], u)
		},
	}
	pf.register(cmd)
	return cmd
}

func newVAUpdateCmd(f *clientFlags, s *scope) *cobra.Command {
	var (
		pf                parentFlags
		name, description string
	)
	cmd := &cobra.Command{
		Use:   "update VA [--name NAME] [--description TEXT] [--parent VA|--top]",
		Short: "Change a Virtual Account's name, description or place in the tree",
		Args:  args("VA"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var u smartlic.VirtualAccountUpdate
			if cmd.Flags().Changed("name") {
				u.Name = &name
			}
			if cmd.Flags().Changed("description") {
				u.Description = &description
			}
			if err := pf.apply(cmd, &u, false); err != nil {
				return err
			}
			if u == (smartlic.VirtualAccountUpdate{}) {
				return smartlic.Invalid("", "nothing to update: pass --name, --description, --parent or --top")
			}
			return f.updateVA(cmd, s, argv[0], u)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().StringVar(&description, "description", "", "new description")
	pf.register(cmd)
	return cmd
}

func newVAListCmd(f *clientFlags, s *scope) *cobra.Command {
	var pf pageFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a Smart Account's Virtual Accounts as a tree",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				vas, next, err := fetch(ctx, cmd, &pf, func(ctx context.Context, page smartlic.Page) ([]smartlic.VirtualAccount, string, error) {
					return a.ListVirtualAccounts(ctx, sa, page)
				})
				if err != nil {
					return err
				}
				if p.json {
					return showList(f, p, vas, next, vaTable)
				}
				return showList(f, p, treeOrder(vas), next, vaTreeTable(vas))
			})
		},
	}
	pf.register(cmd)
	return cmd
}

// vaTreeTable shows each VA indented under its parent, with the parent's
// name beside it.
func vaTreeTable(vas []smartlic.VirtualAccount) table[smartlic.VirtualAccount] {
	names := map[string]string{}
	for _, va := range vas {
		names[va.ID] = va.Name
	}
	return table[smartlic.VirtualAccount]{
		header: []string{"NAME", "PARENT", "DEPTH", "DESCRIPTION", "ID"},
		row: func(va smartlic.VirtualAccount) []string {
			parent := names[va.ParentID]
			if parent == "" {
				parent = va.ParentID // not on this page
			}
			indent := strings.Repeat("  ", max(va.Depth-1, 0))
			return []string{indent + va.Name, parent, strconv.Itoa(va.Depth), va.Description, va.ID}
		},
	}
}

// treeOrder puts every VA right after its parent, depth first, keeping the
// server's order among siblings. A VA whose parent is not in the list (on
// another page) starts a tree of its own.
func treeOrder(vas []smartlic.VirtualAccount) []smartlic.VirtualAccount {
	present := map[string]bool{}
	for _, va := range vas {
		present[va.ID] = true
	}
	children := map[string][]smartlic.VirtualAccount{}
	var roots []smartlic.VirtualAccount
	for _, va := range vas {
		if va.ParentID != "" && present[va.ParentID] && va.ParentID != va.ID {
			children[va.ParentID] = append(children[va.ParentID], va)
		} else {
			roots = append(roots, va)
		}
	}
	out := make([]smartlic.VirtualAccount, 0, len(vas))
	seen := map[string]bool{}
	var walk func(va smartlic.VirtualAccount)
	walk = func(va smartlic.VirtualAccount) {
		if seen[va.ID] {
			return // a cycle in what the server sent must not hang the CLI
		}
		seen[va.ID] = true
		out = append(out, va)
		for _, c := range children[va.ID] {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	for _, va := range vas {
		walk(va) // only what a cycle kept from the roots
	}
	return out
}
