package cli

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var invitationTable = table[smartlic.Invitation]{
	header: []string{"EMAIL", "ROLE", "VIRTUAL ACCOUNT", "STATE", "INVITED BY", "EXPIRES", "ID"},
	row: func(i smartlic.Invitation) []string {
		// The VA's name, as people call it; its id only if the name could
		// not be read (an older server).
		return []string{i.Email, i.Role, cmp.Or(i.VirtualAccount, i.VirtualAccountID), i.State, i.InvitedBy, fmtTime(i.ExpiresAt), i.ID}
	},
}

// newInviteCmd is "user invite": how an administrator brings someone into
// its Smart Account. The code is printed once; the invitee runs
// "smartlic invitation accept" with it.
func newInviteCmd(f *clientFlags) *cobra.Command {
	var s scope
	var in smartlic.InvitationInput
	cmd := &cobra.Command{
		Use:   "invite --account SA --email EMAIL --role ROLE [--va VA]",
		Short: "Invite someone into a Smart Account with a role; the code is shown only once",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRoleFlag(in.Role); err != nil {
				return err
			}
			return f.withUsersIn(cmd, s.account, func(ctx context.Context, us smartlic.UserService, p printer, sa string) error {
				in.VA = s.va
				inv, err := us.InviteUser(ctx, sa, in)
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, inv)
				}
				fmt.Fprintf(p.w, "Invited %s as %s (expires %s).\nCode (shown only now; give it to them):\n\n  %s\n\n"+
					"They accept with: smartlic invitation accept --code CODE\n", inv.Email, inv.Role, fmtTime(inv.ExpiresAt), inv.Code)
				return nil
			})
		},
	}
	s.registerAccount(cmd)
	cmd.Flags().StringVar(&in.Email, "email", "", "the e-mail address to invite")
	cmd.Flags().StringVar(&in.Role, "role", "", "one of "+strings.Join(smartlic.Roles, ", "))
	cmd.Flags().StringVar(&s.va, "va", "", "Virtual Account id or name (VA roles)")
	keepVA(cmd) // no --va: an account role
	return cmd
}

func newInvitationCmd(f *clientFlags) *cobra.Command {
	var s scope
	var in smartlic.AcceptInvitationInput
	accept := &cobra.Command{
		Use:   "accept --code CODE [--name NAME] [--password PASSWORD]",
		Short: "Accept an invitation: a new user sets its password, an existing one gives its current password",
		Long: "Accept an invitation with its code; no API key is needed. For an address that has no user yet, " +
			"--password is the password you choose. If the address already has a user, --password is its current " +
			"password, which accepting never changes.",
		Args:        args(),
		Annotations: map[string]string{anonymousOK: "yes"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Password == "" {
				in.Password = f.e.getenv("SMARTLIC_PASSWORD")
			}
			if in.Code == "" {
				return smartlic.Invalid("--code", "is required")
			}
			return f.withUsers(cmd, func(ctx context.Context, us smartlic.UserService, p printer) error {
				r, err := us.AcceptInvitation(ctx, in)
				if err != nil {
					return err
				}
				return printOne(p, r, roleTable)
			})
		},
	}
	accept.Flags().StringVar(&in.Code, "code", "", "the invitation code (sli_…)")
	accept.Flags().StringVar(&in.Name, "name", "", "your name, for a new user (the e-mail address when empty)")
	accept.Flags().StringVar(&in.Password, "password", "", "your password (env SMARTLIC_PASSWORD)")
	revoke := verb1(f, "revoke", "ID", "Revoke a pending invitation", invitationTable, func(ctx context.Context, us smartlic.UserService, id string) (smartlic.Invitation, error) {
		sa, err := f.account(s.account)
		if err != nil {
			return smartlic.Invitation{}, err
		}
		return us.RevokeInvitation(ctx, sa, id)
	})
	list := listVerb(f, "List the Smart Account's invitations and their states", invitationTable, func(ctx context.Context, us smartlic.UserService, p smartlic.Page) ([]smartlic.Invitation, string, error) {
		sa, err := f.account(s.account)
		if err != nil {
			return nil, "", err
		}
		return us.ListInvitations(ctx, sa, p)
	})
	s.registerAccount(list)
	s.registerAccount(revoke)
	return group("invitation", "List, revoke and accept invitations into a Smart Account", list, revoke, accept)
}
