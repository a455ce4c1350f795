package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

func newRotateKeyCmd(e *env) *cobra.Command {
	var dsn, keyFile, output string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-key",
		Short: "Add a new signing key that signs from now on and retire the old ones after a grace period",
		Long: `Add a new Ed25519 signing key (its private half encrypted at rest), which
signs every document from now on. Older keys keep verifying until now +
--grace and are refused afterwards. The default grace outlasts the longest-
lived document the manager signs (ID certificates, 365 days); --grace 0
retires the old keys at once, for a leaked key. Running servers pick the
new key up without a restart: at once when they meet its kid, and within a
minute for signing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return smartlic.Invalid("--output", "must be table or json (got %q)", output)
			}
			if dsn == "" {
				return smartlic.Invalid("--db", "is required: an SQLite file path or postgres:// URL")
			}
			if grace < 0 {
				return smartlic.Invalid("--grace", "must not be negative (got %s)", grace)
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
			k, err := mgr.RotateKey(ctx, grace)
			if err != nil {
				return err
			}
			retires := k.CreatedAt.Add(grace).UTC()
			if output == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"kid": k.ID, "alg": k.Algorithm, "created_at": k.CreatedAt.UTC(), "old_keys_retire_at": retires})
			}
			fmt.Fprintf(e.stdout, "New signing key %s signs from now on.\nOlder keys verify until %s and are refused afterwards.\n",
				k.ID, retires.Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&dsn, "db", "", "SQLite file path or postgres:// URL")
	cmd.Flags().DurationVar(&grace, "grace", manager.DefaultKeyGrace, "how long the old keys keep verifying (0: retire them now)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	addSecretKeyFlag(cmd, &keyFile)
	return cmd
}
