package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// onlyVA helps a caller whose roles in the Smart Account are all in
// Virtual Accounts, after a command without --va was refused: it ran in
// DEFAULT or on the whole account, which such roles never reach. With
// roles in one VA, it sets --va to that VA, says so on stderr and reports
// true: the command is run again there (a refused request changed
// nothing). With roles in several, it returns the refusal naming them.
func (f *clientFlags) onlyVA(ctx context.Context, cmd *cobra.Command, a api, err error) (bool, error) {
	flag := cmd.Flags().Lookup("va")
	if smartlic.ErrorCode(err) != smartlic.EForbidden || flag == nil || flag.Changed {
		return false, err
	}
	account := ""
	if af := cmd.Flags().Lookup("account"); af != nil {
		account = af.Value.String()
	}
	if account == "" {
		account = f.e.getenv(envAccount)
	}
	if account == "" {
		return false, err
	}
	id, werr := a.WhoAmI(ctx)
	if werr != nil || id.User == nil {
		return false, err
	}
	if sa, serr := a.GetSmartAccount(ctx, account); serr == nil {
		for _, r := range id.Roles {
			if r.SmartAccountID == sa.ID && r.VirtualAccountID == "" {
				return false, err // an account role: --va would not help
			}
		}
	}
	var names []string
	for _, r := range id.Roles {
		if r.VirtualAccountID == "" {
			continue
		}
		// Only VAs of this Smart Account answer under its key.
		va, verr := a.GetVirtualAccount(ctx, account, r.VirtualAccountID)
		if verr == nil && !slices.Contains(names, va.Name) {
			names = append(names, va.Name)
		}
	}
	switch len(names) {
	case 0:
		return false, err
	case 1:
		if serr := cmd.Flags().Set("va", names[0]); serr != nil {
			return false, err
		}
		fmt.Fprintf(f.e.stderr, "Using Virtual Account %q, the only one of %s you have a role in (--va chooses).\n", names[0], account)
		return true, nil
	}
	e, _ := err.(*smartlic.Error)
	if e == nil {
		return false, err
	}
	named := *e
	named.Message += fmt.Sprintf("; your roles in %s are in Virtual Accounts %s: pass --va", account, strings.Join(names, ", "))
	return false, &named
}
