package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// keepVADefault marks a command whose --va, when not given, means
// something a VA role may ask for (every VA it may see, say, or no VA for
// an account role being granted): defaultVA leaves such a flag alone.
const keepVADefault = "smartlic/keep-va-default"

// defaultVA helps a caller whose roles in the Smart Account are all in
// Virtual Accounts, before a command with a --va flag it did not give:
// the command would run in DEFAULT or on the whole account, which such
// roles never reach. It looks at the caller's roles (whoami) first, so no
// request is refused and sent again. With roles in one VA, that VA
// becomes --va's default, said on stderr; the flag still counts as not
// given, so a verb that finds an id in any VA it may see keeps doing so.
// With roles in several, it returns their names for the refusal to list
// (namedVAs). Anything it cannot learn leaves the command as it was.
func (f *clientFlags) defaultVA(ctx context.Context, cmd *cobra.Command, a api) []string {
	flag := cmd.Flags().Lookup("va")
	if flag == nil || flag.Changed || flag.Value.Type() != "string" || keepsVADefault(cmd) {
		return nil
	}
	account := f.accountOf(cmd)
	if account == "" {
		return nil
	}
	id, err := a.WhoAmI(ctx)
	if err != nil || id.User == nil || !slices.ContainsFunc(id.Roles, func(r smartlic.RoleAssignment) bool { return r.VirtualAccountID != "" }) {
		return nil
	}
	saID := account
	if !slices.ContainsFunc(id.Roles, func(r smartlic.RoleAssignment) bool { return r.SmartAccountID == account }) {
		sa, err := a.GetSmartAccount(ctx, account) // a domain, most often
		if err != nil {
			return nil
		}
		saID = sa.ID
	}
	var names []string
	for _, r := range id.Roles {
		switch {
		case r.SmartAccountID != saID:
		case r.VirtualAccountID == "":
			return nil // an account role: the command runs as asked
		case !slices.Contains(names, r.VirtualAccount):
			names = append(names, r.VirtualAccount)
		}
	}
	if len(names) != 1 {
		return names
	}
	if err := flag.Value.Set(names[0]); err != nil {
		return nil
	}
	fmt.Fprintf(f.e.stderr, "Using Virtual Account %q, the only one of %s you have a role in (--va chooses).\n", names[0], account)
	return nil
}

// accountOf is the Smart Account a command names: --account, else the
// environment's; "" for none.
func (f *clientFlags) accountOf(cmd *cobra.Command) string {
	if af := cmd.Flags().Lookup("account"); af != nil && af.Value.String() != "" {
		return af.Value.String()
	}
	return f.e.getenv(envAccount)
}

// keepVA marks cmd (and the verbs below it) keepVADefault.
func keepVA(cmd *cobra.Command) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[keepVADefault] = "true"
}

func keepsVADefault(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[keepVADefault] != "" {
			return true
		}
	}
	return false
}

// namedVAs adds to a refusal of a command run without --va the Virtual
// Accounts the caller's roles are in (defaultVA's names), and --va.
func namedVAs(err error, account string, names []string) error {
	var e *smartlic.Error
	if len(names) < 2 || smartlic.ErrorCode(err) != smartlic.EForbidden || !errors.As(err, &e) {
		return err
	}
	named := *e
	named.Message += fmt.Sprintf("; your roles in %s are in Virtual Accounts %s: pass --va", account, strings.Join(names, ", "))
	return &named
}
