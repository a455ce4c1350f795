package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// addUserCommands adds the nouns of people and credentials: user, role,
// access, invitation, apikey, oauth-client.
func addUserCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	for _, noun := range []*cobra.Command{
		newUserCmd(f),
		newRoleCmd(f),
		newAccessCmd(f),
		newInvitationCmd(f),
		newAPIKeyCmd(f),
		newOAuthClientCmd(f),
	} {
		f.register(noun)
		root.AddCommand(noun)
	}
}

// userService is the user half of the API.
func userService(a api) (smartlic.UserService, error) { return a, nil }

// withUsers runs fn with the user service of a client command.
func (f *clientFlags) withUsers(cmd *cobra.Command, fn func(ctx context.Context, us smartlic.UserService, p printer) error) error {
	return f.run(cmd, func(ctx context.Context, a api, p printer) error {
		us, err := userService(a)
		if err != nil {
			return err
		}
		return fn(ctx, us, p)
	})
}

// withUsersIn is withUsers in the command's Smart Account.
func (f *clientFlags) withUsersIn(cmd *cobra.Command, account string, fn func(ctx context.Context, us smartlic.UserService, p printer, sa string) error) error {
	return f.withUsers(cmd, func(ctx context.Context, us smartlic.UserService, p printer) error {
		sa, err := f.account(account)
		if err != nil {
			return err
		}
		return fn(ctx, us, p, sa)
	})
}

var userTable = table[smartlic.User]{
	header: []string{"EMAIL", "NAME", "DISABLED", "CREATED", "ID"},
	row: func(u smartlic.User) []string {
		return []string{u.Email, u.Name, yesNo(u.Disabled), fmtTime(u.CreatedAt), u.ID}
	},
}

var roleTable = table[smartlic.RoleAssignment]{
	header: []string{"USER", "ROLE", "VIRTUAL ACCOUNT", "GRANTED", "ID"},
	row: func(r smartlic.RoleAssignment) []string {
		va := r.VirtualAccount // a name a person recognises; the id if the store had none
		if va == "" {
			va = r.VirtualAccountID
		}
		return []string{r.UserEmail, r.Role, va, fmtTime(r.CreatedAt), r.ID}
	},
}

var accessTable = table[smartlic.AccessRequest]{
	header: []string{"USER", "STATUS", "MESSAGE", "DECIDED BY", "CREATED", "ID"},
	row: func(r smartlic.AccessRequest) []string {
		return []string{r.UserEmail, r.Status, r.Message, r.DecidedBy, fmtTime(r.CreatedAt), r.ID}
	},
}

var apiKeyTable = table[smartlic.UserAPIKey]{
	header: []string{"NAME", "STATE", "EXPIRES", "LAST USED", "CREATED", "ID"},
	row: func(k smartlic.UserAPIKey) []string {
		state, expires, used := "active", "never", "never"
		if k.RevokedAt != nil {
			state = "revoked"
		}
		if k.ExpiresAt != nil {
			expires = fmtTime(*k.ExpiresAt)
		}
		if k.LastUsedAt != nil {
			used = fmtTime(*k.LastUsedAt)
		}
		return []string{k.Name, state, expires, used, fmtTime(k.CreatedAt), k.ID}
	},
}

var oauthClientTable = table[smartlic.OAuthClient]{
	header: []string{"NAME", "CLIENT ID", "ROLE", "SCOPES", "STATE", "CREATED", "ID"},
	row: func(c smartlic.OAuthClient) []string {
		state := "active"
		switch {
		case c.RevokedAt != nil:
			state = "revoked"
		case c.Suspended:
			state = "suspended: " + c.SuspendedBecause
		}
		return []string{c.Name, c.ClientID, c.Role, strings.Join(c.Scopes, " "), state, fmtTime(c.CreatedAt), c.ID}
	},
}

// verb1 is a verb taking one positional argument and showing one object.
func verb1[T any](f *clientFlags, use, arg, short string, t table[T], call func(ctx context.Context, us smartlic.UserService, key string) (T, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " " + arg,
		Short: short,
		Args:  args(arg),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.withUsers(cmd, func(ctx context.Context, us smartlic.UserService, p printer) error {
				got, err := call(ctx, us, argv[0])
				if err != nil {
					return err
				}
				return printOne(p, got, t)
			})
		},
	}
}

// listVerb is a "list" verb over the user service.
func listVerb[T any](f *clientFlags, short string, t table[T], list func(ctx context.Context, us smartlic.UserService, p smartlic.Page) ([]T, string, error)) *cobra.Command {
	return newListCmd(f, short, t, func(ctx context.Context, a api, p smartlic.Page) ([]T, string, error) {
		us, err := userService(a)
		if err != nil {
			return nil, "", err
		}
		return list(ctx, us, p)
	})
}

func newUserCmd(f *clientFlags) *cobra.Command {
	var in smartlic.UserInput
	create := &cobra.Command{
		Use:   "create --email EMAIL --name NAME --password PASSWORD",
		Short: "Create a user with a password (operator only; administrators use user invite)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Password == "" {
				in.Password = f.e.getenv("SMARTLIC_PASSWORD")
			}
			if err := smartlic.ValidatePassword("--password", in.Password); err != nil {
				return err
			}
			return f.withUsers(cmd, func(ctx context.Context, us smartlic.UserService, p printer) error {
				u, err := us.CreateUser(ctx, in)
				if err != nil {
					return err
				}
				return printOne(p, u, userTable)
			})
		},
	}
	create.Flags().StringVar(&in.Email, "email", "", "the user's e-mail address (their sign-in name)")
	create.Flags().StringVar(&in.Name, "name", "", "the user's full name")
	create.Flags().StringVar(&in.Password, "password", "", fmt.Sprintf("initial password, at least %d characters (env SMARTLIC_PASSWORD)", smartlic.MinPasswordLength))

	// The same command as `smartlic whoami`, where a user looking under
	// "user" would look for it: one output, one set of rules.
	whoami := newWhoAmICmd(f)
	whoami.Short += " (the same as smartlic whoami)"
	return group("user", "Manage users",
		newInviteCmd(f),
		create,
		listVerb(f, "List every user (operator)", userTable, func(ctx context.Context, us smartlic.UserService, p smartlic.Page) ([]smartlic.User, string, error) {
			return us.ListUsers(ctx, p)
		}),
		verb1(f, "get", "USER", "Show a user (id or e-mail)", userTable, func(ctx context.Context, us smartlic.UserService, key string) (smartlic.User, error) {
			return us.GetUser(ctx, key)
		}),
		verb1(f, "disable", "USER", "Disable a user: sign-ins, keys and sessions stop working (operator)", userTable, func(ctx context.Context, us smartlic.UserService, key string) (smartlic.User, error) {
			return us.DisableUser(ctx, key)
		}),
		whoami,
	)
}

func newRoleCmd(f *clientFlags) *cobra.Command {
	var s scope
	var in smartlic.RoleInput
	grant := &cobra.Command{
		Use:   "grant --user USER --role ROLE [--va VA]",
		Short: "Grant a user a role in the Smart Account (VA roles need --va)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRoleFlag(in.Role); err != nil {
				return err
			}
			return f.withUsersIn(cmd, s.account, func(ctx context.Context, us smartlic.UserService, p printer, sa string) error {
				in.VA = s.va
				r, err := us.GrantRole(ctx, sa, in)
				if err != nil {
					return err
				}
				return printOne(p, r, roleTable)
			})
		},
	}
	grant.Flags().StringVar(&in.User, "user", "", "user id or e-mail")
	grant.Flags().StringVar(&in.Role, "role", "", "one of "+strings.Join(smartlic.Roles, ", "))
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a role assignment",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.withUsersIn(cmd, s.account, func(ctx context.Context, us smartlic.UserService, p printer, sa string) error {
				if err := us.RevokeRole(ctx, sa, argv[0]); err != nil {
					return err
				}
				if !p.json {
					fmt.Fprintf(p.w, "Role assignment %s revoked.\n", argv[0])
				}
				return nil
			})
		},
	}
	cmd := group("role", "Grant and revoke the roles of users in a Smart Account",
		grant,
		listVerb(f, "List the role assignments of the Smart Account (of one VA with --va)", roleTable, func(ctx context.Context, us smartlic.UserService, p smartlic.Page) ([]smartlic.RoleAssignment, string, error) {
			sa, err := f.account(s.account)
			if err != nil {
				return nil, "", err
			}
			return us.ListRoles(ctx, sa, s.va, p)
		}),
		revoke,
	)
	s.registerAccount(cmd)
	cmd.PersistentFlags().StringVar(&s.va, "va", "", "Virtual Account id or name (VA roles)")
	keepVA(cmd) // no --va: an account role, or every role the caller may see
	return cmd
}

func newAccessCmd(f *clientFlags) *cobra.Command {
	var s scope
	var message string
	request := &cobra.Command{
		Use:   "request [--message TEXT]",
		Short: "Ask for access to the Smart Account",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withUsersIn(cmd, s.account, func(ctx context.Context, us smartlic.UserService, p printer, sa string) error {
				r, err := us.RequestAccess(ctx, sa, message)
				if err != nil {
					return err
				}
				return printOne(p, r, accessTable)
			})
		},
	}
	request.Flags().StringVar(&message, "message", "", "why you need access")
	var in smartlic.RoleInput
	approve := &cobra.Command{
		Use:   "approve ID --role ROLE [--va VA]",
		Short: "Approve an access request, granting a role",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := checkRoleFlag(in.Role); err != nil {
				return err
			}
			return f.withUsersIn(cmd, s.account, func(ctx context.Context, us smartlic.UserService, p printer, sa string) error {
				in.VA = s.va
				r, err := us.ApproveAccessRequest(ctx, sa, argv[0], in)
				if err != nil {
					return err
				}
				return printOne(p, r, accessTable)
			})
		},
	}
	approve.Flags().StringVar(&in.Role, "role", "", "the role to grant: one of "+strings.Join(smartlic.Roles, ", "))
	approve.Flags().StringVar(&s.va, "va", "", "Virtual Account id or name (VA roles)")
	keepVA(approve) // no --va: an account role
	deny := verb1(f, "deny", "ID", "Deny an access request", accessTable, func(ctx context.Context, us smartlic.UserService, id string) (smartlic.AccessRequest, error) {
		sa, err := f.account(s.account)
		if err != nil {
			return smartlic.AccessRequest{}, err
		}
		return us.DenyAccessRequest(ctx, sa, id)
	})
	cmd := group("access", "Ask for access to a Smart Account, and answer such requests",
		request,
		approve,
		deny,
		listVerb(f, "List the Smart Account's access requests", accessTable, func(ctx context.Context, us smartlic.UserService, p smartlic.Page) ([]smartlic.AccessRequest, string, error) {
			sa, err := f.account(s.account)
			if err != nil {
				return nil, "", err
			}
			return us.ListAccessRequests(ctx, sa, p)
		}),
	)
	s.registerAccount(cmd)
	return cmd
}

func newAPIKeyCmd(f *clientFlags) *cobra.Command {
	var in smartlic.APIKeyInput
	create := &cobra.Command{
		Use:   "create --name NAME [--expires-days N]",
		Short: "Create a personal API key; its secret is shown only once",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withUsers(cmd, func(ctx context.Context, us smartlic.UserService, p printer) error {
				k, err := us.CreateAPIKey(ctx, in)
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, k)
				}
				fmt.Fprintf(p.w, "API key created. Copy it now: it cannot be shown again.\n\n    %s\n\n", k.Secret)
				return printOne(p, k, apiKeyTable)
			})
		},
	}
	create.Flags().StringVar(&in.Name, "name", "", "what the key is for")
	create.Flags().IntVar(&in.ExpiresInDays, "expires-days", 0, "days until the key expires, 1-365 (default: never)")
	return group("apikey", "Manage your personal API keys",
		create,
		listVerb(f, "List your personal API keys", apiKeyTable, func(ctx context.Context, us smartlic.UserService, p smartlic.Page) ([]smartlic.UserAPIKey, string, error) {
			return us.ListAPIKeys(ctx, p)
		}),
		verb1(f, "revoke", "ID", "Revoke a personal API key", apiKeyTable, func(ctx context.Context, us smartlic.UserService, id string) (smartlic.UserAPIKey, error) {
			return us.RevokeAPIKey(ctx, id)
		}),
	)
}

func newOAuthClientCmd(f *clientFlags) *cobra.Command {
	var (
		s      scope
		vendor bool
		in     smartlic.OAuthClientInput
		scopes string
	)
	owner := func() (string, error) {
		if vendor {
			return "", nil
		}
		return f.account(s.account)
	}
	create := &cobra.Command{
		Use:   "create --name NAME [--role ROLE] [--scopes read,write] [--vendor]",
		Short: "Create an OAuth 2.0 client-credentials client; its secret is shown only once",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, sc := range strings.Split(scopes, ",") {
				if sc = strings.TrimSpace(sc); sc != "" {
					in.Scopes = append(in.Scopes, sc)
				}
			}
			return f.withUsers(cmd, func(ctx context.Context, us smartlic.UserService, p printer) error {
				sa, err := owner()
				if err != nil {
					return err
				}
				c, err := us.CreateOAuthClient(ctx, sa, in)
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, c)
				}
				fmt.Fprintf(p.w, "OAuth client created. Copy the secret now: it cannot be shown again.\n\n    client_id:     %s\n    client_secret: %s\n\n", c.ClientID, c.Secret)
				return printOne(p, c, oauthClientTable)
			})
		},
	}
	create.Flags().StringVar(&in.Name, "name", "", "what the client is")
	create.Flags().StringVar(&in.Role, "role", "", "what the client acts as: sa_user (default), sa_admin, sa_approver; operator with --vendor")
	create.Flags().StringVar(&scopes, "scopes", "read", "comma-separated scopes: read, write")
	cmd := group("oauth-client", "Manage OAuth 2.0 clients for machine integrations",
		create,
		listVerb(f, "List OAuth clients", oauthClientTable, func(ctx context.Context, us smartlic.UserService, p smartlic.Page) ([]smartlic.OAuthClient, string, error) {
			sa, err := owner()
			if err != nil {
				return nil, "", err
			}
			return us.ListOAuthClients(ctx, sa, p)
		}),
		verb1(f, "revoke", "ID", "Revoke an OAuth client; its tokens stop working", oauthClientTable, func(ctx context.Context, us smartlic.UserService, id string) (smartlic.OAuthClient, error) {
			sa, err := owner()
			if err != nil {
				return smartlic.OAuthClient{}, err
			}
			return us.RevokeOAuthClient(ctx, sa, id)
		}),
	)
	s.registerAccount(cmd)
	cmd.PersistentFlags().BoolVar(&vendor, "vendor", false, "the vendor's clients instead of a Smart Account's (operator)")
	return cmd
}

// checkRoleFlag refuses an unknown --role before anything is sent.
func checkRoleFlag(role string) error {
	if !smartlic.ValidRole(role) {
		return smartlic.Invalid("--role", "must be one of %s (got %q)", strings.Join(smartlic.Roles, ", "), role)
	}
	return nil
}
