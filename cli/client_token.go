package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// tokenTable shows a token's state against the local clock; the server
// sends the facts (expiry, uses, revocation), not the state.
var tokenTable = table[smartlic.Token]{
	header: []string{"DESCRIPTION", "STATE", "USES", "MAX USES", "EXPIRES", "EXPORT CONTROLLED", "ID"},
	row: func(t smartlic.Token) []string {
		maxUses := "unlimited"
		if t.MaxUses != nil {
			maxUses = fmtInt(*t.MaxUses)
		}
		return []string{t.Description, string(t.State(time.Now())), fmtInt(t.Uses), maxUses, fmtTime(t.ExpiresAt), yesNo(t.AllowExportControlled), t.ID}
	},
}

func newTokenCmd(f *clientFlags) *cobra.Command {
	var s scope
	// get and revoke find the token in any VA of the account unless --va
	// is given: its id is unique, and "not found in DEFAULT" for a token
	// that exists elsewhere only misleads.
	verb := func(use, short string, call func(a api, ctx context.Context, sa, va, id string) (smartlic.Token, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Args:  args("ID"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
					va := ""
					if cmd.Flags().Changed("va") {
						va = s.va
					}
					got, err := call(a, ctx, sa, va, argv[0])
					if err != nil {
						return err
					}
					return printOne(p, got, tokenTable)
				})
			},
		}
	}
	get := verb("get", "Show a registration token (of any Virtual Account unless --va is given)", api.GetToken)
	revoke := verb("revoke", "Revoke a registration token (of any Virtual Account unless --va is given); instances registered with it stay registered", api.RevokeToken)
	cmd := group("token", "Manage registration tokens, the right to register product instances into a Virtual Account",
		newTokenCreateCmd(f, &s),
		newListInCmd(f, &s, "List a Virtual Account's registration tokens", tokenTable,
			func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.Token, string, error) {
				return a.ListTokens(ctx, sa, s.va, p)
			}),
		get,
		revoke,
	)
	s.registerAccount(cmd)
	s.registerVA(cmd)
	return cmd
}

func newTokenCreateCmd(f *clientFlags, s *scope) *cobra.Command {
	var (
		in        smartlic.TokenInput
		maxUses   int64
		expiresIn time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create --description TEXT [--expires-days N | --expires-in 10m] [--max-uses N] [--allow-export-controlled]",
		Short: "Create a registration token; its secret is shown only once",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(in.Description) == "" {
				// A token is a live secret: without a description nobody
				// can tell later what it was for, or whether to revoke it.
				return smartlic.Invalid("--description", "is required: say what the token is for, e.g. --description \"lab switches\"")
			}
			if cmd.Flags().Changed("expires-in") {
				if cmd.Flags().Changed("expires-days") {
					return smartlic.Invalid("--expires-in", "give --expires-days or --expires-in, not both")
				}
				if expiresIn < time.Minute || expiresIn > smartlic.MaxTokenMinutes*time.Minute || expiresIn%time.Minute != 0 {
					return smartlic.Invalid("--expires-in", "must be whole minutes between 1m and %dh (got %s)", smartlic.MaxTokenDays*24, expiresIn)
				}
				in.ExpiresInDays, in.ExpiresInMinutes = 0, int(expiresIn/time.Minute)
			} else if in.ExpiresInDays < smartlic.MinTokenDays || in.ExpiresInDays > smartlic.MaxTokenDays {
				return smartlic.Invalid("--expires-days", "must be between %d and %d (got %d)", smartlic.MinTokenDays, smartlic.MaxTokenDays, in.ExpiresInDays)
			}
			if cmd.Flags().Changed("max-uses") {
				if maxUses < 1 {
					return smartlic.Invalid("--max-uses", "must be at least 1 (got %d); leave it out for unlimited uses", maxUses)
				}
				in.MaxUses = &maxUses
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				got, err := a.CreateToken(ctx, sa, s.va, in)
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, got)
				}
				// The secret is stored hashed: this is the only time anyone sees it.
				fmt.Fprintf(p.w, "Registration token created in Virtual Account %q. Copy it now: it cannot be shown again.\n\n    %s\n\n", s.va, got.Secret)
				return printOne(p, got, tokenTable)
			})
		},
	}
	cmd.Flags().StringVar(&in.Description, "description", "", "what the token is for")
	cmd.Flags().IntVar(&in.ExpiresInDays, "expires-days", 30, fmt.Sprintf("days until the token expires, %d-%d", smartlic.MinTokenDays, smartlic.MaxTokenDays))
	cmd.Flags().DurationVar(&expiresIn, "expires-in", 0, "instead of --expires-days, a short life such as 10m or 2h, to see a token expire in a test or demonstration")
	cmd.Flags().Int64Var(&maxUses, "max-uses", 0, "how many instances may register with it (default: unlimited)")
	cmd.Flags().BoolVar(&in.AllowExportControlled, "allow-export-controlled", false, "let instances registered with it use export-controlled functionality")
	return cmd
}
