package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

func newAdminCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a smartlic database directly (bootstrap, maintenance)",
	}
	var dsn, email, output, keyFile string
	create := &cobra.Command{
		Use:   "create-operator",
		Short: "Create a vendor operator API key and print it once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return smartlic.Invalid("--output", "must be table or json (got %q)", output)
			}
			if dsn == "" {
				return smartlic.Invalid("--db", "is required: an SQLite file path or postgres:// URL")
			}
			ctx := cmd.Context()
			st, err := openStore(ctx, e, dsn, keyFile, func(format string, args ...any) { fmt.Fprintf(e.stderr, format+"\n", args...) })
			if err != nil {
				return err
			}
			defer st.Close()
			mgr, err := manager.New(ctx, st, smartlic.SystemClock{})
			if err != nil {
				return err
			}
			key, secret, err := mgr.CreateOperator(ctx, email)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]string{"api_key": secret, "id": key.ID, "email": key.Email})
			}
			fmt.Fprintf(e.stdout, "Operator API key for %s (shown once, store it now):\n%s\n", key.Email, secret)
			return nil
		},
	}
	create.Flags().StringVar(&dsn, "db", "", "SQLite file path or postgres:// URL")
	create.Flags().StringVar(&email, "email", "", "operator e-mail address")
	create.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	addSecretKeyFlag(create, &keyFile)
	cmd.AddCommand(create, newRotateSecretKeyCmd(e), newRotateKeyCmd(e))
	return cmd
}
