package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
)

// addEventCommands adds `smartlic events list|export|verify`.
func addEventCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	noun := &cobra.Command{
		Use:   "events",
		Short: "Read, export and verify the append-only event log",
	}
	noun.AddCommand(newEventsListCmd(f), newEventsExportCmd(f), newEventsVerifyCmd(f))
	f.register(noun)
	root.AddCommand(noun)
}

// eventFlags are the filters list and export share.
type eventFlags struct {
	scope
	actor, typ, from, to string
	filterVA             string
}

func (ef *eventFlags) register(cmd *cobra.Command) {
	ef.registerAccount(cmd)
	cmd.Flags().StringVar(&ef.filterVA, "va", "", "only events of this Virtual Account (name or id)")
	cmd.Flags().StringVar(&ef.actor, "actor", "", "only events by this actor (e-mail or id)")
	cmd.Flags().StringVar(&ef.typ, "type", "", "only events of this type, or a prefix ending in '.' (token.)")
	cmd.Flags().StringVar(&ef.from, "from", "", "only events at or after this time (YYYY-MM-DD or RFC 3339)")
	cmd.Flags().StringVar(&ef.to, "to", "", "only events before this time (YYYY-MM-DD or RFC 3339)")
}

func (ef *eventFlags) filter() (smartlic.EventFilter, error) {
	f := smartlic.EventFilter{VirtualAccountID: ef.filterVA, Actor: ef.actor, Type: ef.typ}
	for _, t := range []struct {
		flag, in string
		out      *time.Time
	}{{"--from", ef.from, &f.From}, {"--to", ef.to, &f.To}} {
		if t.in == "" {
			continue
		}
		v, err := parseDate(t.flag, t.in)
		if err != nil {
			return f, err
		}
		*t.out = *v
	}
	return f, nil
}

func newEventsListCmd(f *clientFlags) *cobra.Command {
	ef := &eventFlags{}
	var pf pageFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a Smart Account's events, oldest first (--account vendor for the vendor's log)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := ef.filter()
			if err != nil {
				return err
			}
			sa, err := f.account(ef.account)
			if err != nil {
				return err
			}
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				items, next, err := fetch(ctx, cmd, &pf, func(ctx context.Context, pg smartlic.Page) ([]smartlic.Event, string, error) {
					return a.ListEvents(ctx, sa, filter, pg)
				})
				if err != nil {
					return err
				}
				return showList(f, p, items, next, eventTable)
			})
		},
	}
	ef.register(cmd)
	pf.register(cmd)
	return cmd
}

var eventTable = table[smartlic.Event]{
	header: []string{"SEQ", "AT", "TYPE", "ACTOR", "MESSAGE"},
	row: func(ev smartlic.Event) []string {
		actor := ev.ActorEmail
		if actor == "" {
			actor = ev.ActorID
		}
		return []string{fmtInt(ev.Seq), fmtTime(ev.At), ev.Type, actor, ev.Message}
	},
}

func newEventsExportCmd(f *clientFlags) *cobra.Command {
	ef := &eventFlags{}
	var format string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export a Smart Account's event log as CSV or JSON to stdout",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "csv" && format != "json" {
				return smartlic.Invalid("--format", "must be csv or json (got %q)", format)
			}
			filter, err := ef.filter()
			if err != nil {
				return err
			}
			sa, err := f.account(ef.account)
			if err != nil {
				return err
			}
			return f.run(cmd, func(ctx context.Context, a api, _ printer) error {
				b, err := a.ExportEvents(ctx, sa, filter, format)
				if err != nil {
					return err
				}
				_, err = f.e.stdout.Write(b)
				return err
			})
		},
	}
	ef.register(cmd)
	cmd.Flags().StringVar(&format, "format", "csv", "csv or json")
	return cmd
}

func newEventsVerifyCmd(f *clientFlags) *cobra.Command {
	var account, dsn string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove the event log untouched, or name the first altered, removed or reordered entry",
		Long: `Verify walks the hash chain of a Smart Account's event log (--account), or of
every chain. Through the API by default; with --db it opens the database
directly, so the check does not depend on a running server. Exits 0 when
every chain verifies and non-zero otherwise.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if account == "" {
				account = f.e.getenv(envAccount)
			}
			var verdicts []smartlic.ChainVerdict
			var err error
			if dsn != "" {
				verdicts, err = verifyDatabase(cmd.Context(), dsn, account)
				if err != nil {
					return err
				}
				return reportVerdicts(f, printer{w: f.e.stdout, json: f.output == "json"}, verdicts)
			}
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				if verdicts, err = a.VerifyEvents(ctx, account); err != nil {
					return err
				}
				return reportVerdicts(f, p, verdicts)
			})
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "Smart Account id or domain, or vendor (env "+envAccount+"; default: every chain)")
	cmd.Flags().StringVar(&dsn, "db", "", "verify this database directly (SQLite path or postgres:// URL) instead of asking a server")
	return cmd
}

// verifyDatabase checks chains straight from the store, trusting nothing
// but the entries themselves.
func verifyDatabase(ctx context.Context, dsn, account string) ([]smartlic.ChainVerdict, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var verdicts []smartlic.ChainVerdict
	err = st.Read(ctx, func(tx smartlic.Tx) error {
		heads, err := tx.EventChains(ctx)
		if err != nil {
			return err
		}
		want := account
		if want != "" && want != smartlic.VendorChain {
			sa, err := tx.GetSmartAccount(ctx, want)
			if err != nil {
				return err
			}
			want = sa.ID
		}
		for _, h := range heads {
			if want != "" && h.Chain != want {
				continue
			}
			v, err := manager.VerifyChain(ctx, tx, h)
			if err != nil {
				return err
			}
			verdicts = append(verdicts, v)
		}
		return nil
	})
	return verdicts, err
}

// reportVerdicts prints the verdicts and fails when any chain is broken.
func reportVerdicts(f *clientFlags, p printer, verdicts []smartlic.ChainVerdict) error {
	if err := printList(p, verdicts, "", verdictTable); err != nil {
		return err
	}
	for _, v := range verdicts {
		if !v.OK {
			return smartlic.Errorf(smartlic.EConflict, "", "event log of chain %s is not intact: %s", v.Chain, v.Problem)
		}
	}
	if len(verdicts) == 0 {
		fmt.Fprintln(f.e.stderr, "no event chains found")
	}
	return nil
}

var verdictTable = table[smartlic.ChainVerdict]{
	header: []string{"CHAIN", "ENTRIES", "OK", "PROBLEM"},
	row: func(v smartlic.ChainVerdict) []string {
		return []string{v.Chain, fmtInt(v.Entries), yesNo(v.OK), v.Problem}
	},
}
