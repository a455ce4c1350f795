package cli

import (
	"context"
	"encoding/csv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// runReport runs a report command. Reports print as a table, as JSON or,
// beyond what other commands offer, as CSV with a header row (-o csv).
// runReportIn is runReport in the command's Smart Account.
func runReportIn(f *clientFlags, cmd *cobra.Command, account string, fn func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error)) error {
	return runReport(f, cmd, func(ctx context.Context, t transferAPI) (any, smartlic.Table, error) {
		sa, err := f.account(account)
		if err != nil {
			return nil, smartlic.Table{}, err
		}
		return fn(ctx, t, sa)
	})
}

func runReport(f *clientFlags, cmd *cobra.Command, fn func(ctx context.Context, t transferAPI) (any, smartlic.Table, error)) error {
	format := f.output
	if format == "csv" {
		// The shared flag checks know table and json; CSV is made here.
		f.output = "table"
		defer func() { f.output = format }()
	}
	return f.run(cmd, func(ctx context.Context, a api, p printer) error {
		t, err := transfers(a)
		if err != nil {
			return err
		}
		v, tbl, err := fn(ctx, t)
		if err != nil {
			return err
		}
		switch {
		case format == "csv":
			w := csv.NewWriter(p.w)
			if err := w.Write(tbl.Header); err != nil {
				return err
			}
			return w.WriteAll(tbl.Rows)
		case p.json:
			return writeJSON(p.w, v)
		}
		header := make([]string, len(tbl.Header))
		for i, h := range tbl.Header {
			header[i] = strings.ToUpper(strings.ReplaceAll(h, "_", " "))
		}
		return writeTable(p.w, header, tbl.Rows)
	})
}

// addReportCommands adds "report".
func addReportCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	var s scope
	var va string
	report := func(use, short string, fn func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error), flags func(*cobra.Command)) *cobra.Command {
		cmd := &cobra.Command{
			Use:   use,
			Short: short + " (-o table|json|csv)",
			Args:  args(),
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runReportIn(f, cmd, s.account, fn)
			},
		}
		if flags != nil {
			flags(cmd)
		}
		return cmd
	}
	var at, from, to string
	var days int
	noun := group("report", "Reports: usage at a point in time, true-up, expiring subscriptions, instances",
		report("usage [--va VA] [--at DATE]", "License usage per Virtual Account: purchased, in use, available, overage",
			func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error) {
				when, err := parseDate("--at", at)
				if err != nil {
					return nil, smartlic.Table{}, err
				}
				r, err := t.UsageReport(ctx, sa, smartlic.UsageQuery{VA: va, At: when})
				return r, r.Table(), err
			},
			func(cmd *cobra.Command) {
				cmd.Flags().StringVar(&at, "at", "", "the moment, YYYY-MM-DD or RFC 3339 (default: now)")
			}),
		report("true-up --from DATE --to DATE [--va VA]", "Peak in use and peak overage per license type over a period",
			func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error) {
				q := smartlic.TrueUpQuery{VA: va}
				fromT, err := parseDate("--from", from)
				if err != nil {
					return nil, smartlic.Table{}, err
				}
				toT, err := parseDate("--to", to)
				if err != nil {
					return nil, smartlic.Table{}, err
				}
				if fromT == nil {
					return nil, smartlic.Table{}, smartlic.Invalid("--from", "is required")
				}
				if toT == nil {
					return nil, smartlic.Table{}, smartlic.Invalid("--to", "is required")
				}
				q.From, q.To = *fromT, *toT
				r, err := t.TrueUpReport(ctx, sa, q)
				return r, r.Table(), err
			},
			func(cmd *cobra.Command) {
				cmd.Flags().StringVar(&from, "from", "", "start of the period, YYYY-MM-DD or RFC 3339")
				cmd.Flags().StringVar(&to, "to", "", "end of the period (exclusive; cut at now)")
			}),
		report("expiring [--days N] [--va VA]", "Subscription licenses ending within N days",
			func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error) {
				r, err := t.ExpiringReport(ctx, sa, smartlic.ExpiringQuery{VA: va, Days: days})
				return r, r.Table(), err
			},
			func(cmd *cobra.Command) {
				cmd.Flags().IntVar(&days, "days", 90, "window in days")
			}),
		report("instances [--va VA]", "Product instances with their authorization state",
			func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error) {
				r, err := t.InstancesReport(ctx, sa, smartlic.InstancesQuery{VA: va})
				return r, r.Table(), err
			}, nil),
	)
	s.registerAccount(noun)
	noun.PersistentFlags().StringVar(&va, "va", "", "one Virtual Account (default: every VA of the Smart Account)")
	f.register(noun)
	root.AddCommand(noun)
}
