package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// accountRoles is one Smart Account of the caller and its roles there.
type accountRoles struct {
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Domain string      `json:"domain"`
	Roles  []namedRole `json:"roles"`
}

type namedRole struct {
	Role             string `json:"role"`
	VirtualAccount   string `json:"virtual_account,omitempty"` // name
	VirtualAccountID string `json:"virtual_account_id,omitempty"`
}

// whoAmI is what `smartlic whoami -o json` prints.
type whoAmI struct {
	smartlic.Identity
	Accounts []accountRoles `json:"accounts"`
}

var accountRolesTable = table[accountRoles]{
	header: []string{"SMART ACCOUNT", "DOMAIN", "ROLES"},
	row: func(a accountRoles) []string {
		roles := ""
		for i, r := range a.Roles {
			if i > 0 {
				roles += ", "
			}
			roles += r.Role
			if r.VirtualAccount != "" {
				roles += " (" + r.VirtualAccount + ")"
			}
		}
		return []string{a.Name, a.Domain, roles}
	},
}

// actorKinds names how the caller proved who it is.
var actorKinds = map[string]string{
	smartlic.ActorOperatorKey: "operator key",
	smartlic.ActorUserKey:     "personal API key",
	smartlic.ActorSession:     "portal session",
	smartlic.ActorOAuthClient: "OAuth client",
}

func newWhoAmICmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who you are signed in as, and your roles in which Smart Accounts",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				id, err := a.WhoAmI(ctx)
				if err != nil {
					return err
				}
				out := whoAmI{Identity: id, Accounts: accountsOf(ctx, a, id.Roles)}
				if p.json {
					return writeJSON(p.w, out)
				}
				who := "user"
				switch {
				case id.Actor.Role == smartlic.RoleOperator:
					who = "the vendor operator"
				case id.Actor.Kind == smartlic.ActorOAuthClient:
					who = "OAuth client with role " + id.Actor.Role
				}
				fmt.Fprintf(p.w, "%s (%s, %s)\n", id.Actor.Email, who, actorKinds[id.Actor.Kind])
				switch {
				case id.Actor.Role == smartlic.RoleOperator:
					fmt.Fprintln(p.w, "The operator sees every Smart Account.")
					return nil
				case len(out.Accounts) == 0:
					fmt.Fprintln(p.w, "No roles yet: ask an administrator of your Smart Account, or `smartlic access request --account DOMAIN`.")
					return nil
				}
				fmt.Fprintln(p.w)
				return printList(p, out.Accounts, "", accountRolesTable)
			})
		},
	}
}

// accountsOf groups roles by Smart Account, with the names a person knows
// them by. A name that cannot be read shows as its id.
func accountsOf(ctx context.Context, a api, roles []smartlic.RoleAssignment) []accountRoles {
	out := []accountRoles{}
	index := map[string]int{}
	for _, r := range roles {
		i, ok := index[r.SmartAccountID]
		if !ok {
			acc := accountRoles{ID: r.SmartAccountID, Name: r.SmartAccountID}
			if sa, err := a.GetSmartAccount(ctx, r.SmartAccountID); err == nil {
				acc.Name, acc.Domain = sa.Name, sa.Domain
			}
			i = len(out)
			index[r.SmartAccountID] = i
			out = append(out, acc)
		}
		nr := namedRole{Role: r.Role, VirtualAccountID: r.VirtualAccountID}
		if r.VirtualAccountID != "" {
			nr.VirtualAccount = r.VirtualAccountID
			if va, err := a.GetVirtualAccount(ctx, r.SmartAccountID, r.VirtualAccountID); err == nil {
				nr.VirtualAccount = va.Name
			}
		}
		out[i].Roles = append(out[i].Roles, nr)
	}
	return out
}
