package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var depositTable = table[smartlic.Deposit]{
	header: []string{"ORDER", "LICENSE", "QUANTITY", "STARTS", "ENDS", "ID"},
	row: func(d smartlic.Deposit) []string {
		return []string{d.OrderNumber, d.LicenseTag, fmtInt(d.Quantity), fmtDate(&d.StartsAt), fmtDate(d.EndsAt), d.ID}
	},
}

// poolTable is the compliance view. Overage shows as a negative AVAILABLE
// and an "insufficient" STATUS, as the design's soft enforcement has it.
var poolTable = table[smartlic.Pool]{
	header: []string{"LICENSE", "PURCHASED", "IN USE", "RESERVED", "AVAILABLE", "STATUS", "NEXT EXPIRY"},
	row: func(p smartlic.Pool) []string {
		return []string{p.LicenseTag, fmtInt(p.Purchased), fmtInt(p.InUse), fmtInt(p.Reserved), fmtInt(p.Available), human(p.Status), fmtDate(p.NextExpiry)}
	},
}

// aggregatePoolTable is the account-wide and rolled-up view: a row adds
// up several VAs' pools, so SHORT IN says which VAs make it insufficient
// even when the totals show licenses available.
var aggregatePoolTable = table[smartlic.Pool]{
	header: append(slices.Clone(poolTable.header), "SHORT IN"),
	row: func(p smartlic.Pool) []string {
		short := "-"
		if n := len(p.ShortVirtualAccounts); n > 0 {
			short = fmt.Sprintf("%d: %s", n, strings.Join(p.ShortVirtualAccounts, ", "))
		}
		return append(poolTable.row(p), short)
	},
}

func newDepositCmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("deposit", "Deposit licenses into a Virtual Account and list deposits",
		newDepositCreateCmd(f, &s),
		newListInCmd(f, &s, "List a Virtual Account's deposits", depositTable,
			func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.Deposit, string, error) {
				return a.ListDeposits(ctx, sa, s.va, p)
			}),
	)
	s.registerAccount(cmd)
	s.registerVA(cmd)
	return cmd
}

func newDepositCreateCmd(f *clientFlags, s *scope) *cobra.Command {
	var (
		in           smartlic.DepositInput
		starts, ends string
	)
	cmd := &cobra.Command{
		Use:   "create --order ORDER --license TAG --quantity N [--starts DATE] [--ends DATE]",
		Short: "Deposit licenses from an order (subscriptions need --ends)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if in.StartsAt, err = parseDate("--starts", starts); err != nil {
				return err
			}
			if in.EndsAt, err = parseDate("--ends", ends); err != nil {
				return err
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				got, err := a.CreateDeposit(ctx, sa, s.va, in)
				if err != nil {
					return err
				}
				if !p.json {
					// Without --va the deposit lands in DEFAULT: say where it went.
					fmt.Fprintf(p.w, "Deposited into Virtual Account %q.\n\n", s.va)
				}
				return printOne(p, got, depositTable)
			})
		},
	}
	cmd.Flags().StringVar(&in.OrderNumber, "order", "", "order number")
	cmd.Flags().StringVar(&in.License, "license", "", "license type tag")
	cmd.Flags().Int64Var(&in.Quantity, "quantity", 0, "number of licenses")
	cmd.Flags().StringVar(&starts, "starts", "", "start, YYYY-MM-DD or RFC 3339 (default: now)")
	cmd.Flags().StringVar(&ends, "ends", "", "end of a subscription, YYYY-MM-DD or RFC 3339")
	return cmd
}

func newLicenseCmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("license", "Show license pools: purchased, in use, available and compliance")
	var rollup bool
	var q smartlic.PoolQuery
	var status, sort string
	var pf pageFlags
	list := &cobra.Command{
		Use:   "list [--va VA [--rollup]] [--status S] [--search TEXT] [--sort tag|status|available] [--limit N] [--after CURSOR | --all]",
		Short: "Show the Smart Account's licenses, or one Virtual Account's, a page at a time",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rollup && s.va == "" {
				return smartlic.Invalid("--rollup", "needs --va: the Smart Account view already adds up every VA")
			}
			if cmd.Flags().Changed("limit") && (pf.limit < 1 || pf.limit > smartlic.MaxPageLimit) {
				return smartlic.Invalid("--limit", "must be between 1 and %d (got %d)", smartlic.MaxPageLimit, pf.limit)
			}
			q.Status, q.Sort, q.Limit, q.After = smartlic.PoolStatus(status), smartlic.PoolSort(sort), pf.limit, pf.after
			if _, err := q.Normalize(); err != nil {
				return err // nameTheFlag turns the field into the flag
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				page, err := a.QueryPools(ctx, sa, s.va, rollup, q)
				for err == nil && pf.all && page.Next != "" {
					more := q
					more.After = page.Next
					var next smartlic.PoolPage
					next, err = a.QueryPools(ctx, sa, s.va, rollup, more)
					page.Items, page.Next = append(page.Items, next.Items...), next.Next
				}
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, page)
				}
				t := aggregatePoolTable
				if s.va != "" && !rollup {
					t = poolTable
				}
				if err := printList(p, page.Items, page.Next, t); err != nil {
					return err
				}
				drillDown(f.e.stderr, page.Items)
				if page.Next != "" {
					fmt.Fprintf(f.e.stderr, "%d of %d license types; more: --after %s\n", len(page.Items), page.Total, page.Next)
				}
				return nil
			})
		},
	}
	// Unlike the other nouns, no --va means the whole Smart Account.
	list.Flags().StringVar(&s.va, "va", "", "Virtual Account name or id (default: the whole Smart Account)")
	list.Flags().BoolVar(&rollup, "rollup", false, "add up the Virtual Account and all its descendants")
	list.Flags().StringVar(&status, "status", "", "only rows with this status: insufficient, expired, expiring, in_compliance or empty")
	list.Flags().StringVar(&q.Search, "search", "", "only rows whose license tag or name contains this, ignoring case")
	list.Flags().StringVar(&sort, "sort", "tag", "order: tag, status (most severe first) or available (fewest first)")
	pf.register(list)

	var sumRollup bool
	var sumVA string
	summary := &cobra.Command{
		Use:   "summary [--va VA [--rollup]]",
		Short: "Count the license types of the Smart Account, or of one Virtual Account, by status",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sumRollup && sumVA == "" {
				return smartlic.Invalid("--rollup", "needs --va: the Smart Account view already adds up every VA")
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				sum, err := a.SummarizePools(ctx, sa, sumVA, sumRollup)
				if err != nil {
					return err
				}
				return printOne(p, sum, summaryTable)
			})
		},
	}
	summary.Flags().StringVar(&sumVA, "va", "", "Virtual Account name or id (default: the whole Smart Account)")
	summary.Flags().BoolVar(&sumRollup, "rollup", false, "add up the Virtual Account and all its descendants")
	cmd.AddCommand(list, summary, newLicenseHistoryCmd(f, &s))
	s.registerAccount(cmd)
	return cmd
}

var summaryTable = table[smartlic.PoolSummary]{
	header: []string{"LICENSE TYPES", "INSUFFICIENT", "EXPIRED", "EXPIRING", "IN COMPLIANCE", "EMPTY", "OVERAGE", "SHORT VAS"},
	row: func(s smartlic.PoolSummary) []string {
		c := s.ByStatus
		return []string{countOf(s.LicenseTypes), countOf(c.Insufficient), countOf(c.Expired), countOf(c.Expiring), countOf(c.InCompliance), countOf(c.Empty),
			strconv.FormatInt(s.Overage, 10), countOf(s.ShortVirtualAccounts)}
	},
}

func countOf(n int) string { return strconv.Itoa(n) }

// drillDown tells a person how to see the VAs that make an aggregate row
// insufficient; on stderr, so that stdout stays the table.
func drillDown(w io.Writer, pools []smartlic.Pool) {
	seen := map[string]bool{}
	for _, p := range pools {
		for _, va := range p.ShortVirtualAccounts {
			if !seen[va] {
				seen[va] = true
				fmt.Fprintf(w, "%s is short: smartlic license list --va %q\n", va, va)
			}
		}
	}
}

// newLicenseHistoryCmd is "license history TAG": one row per day and, in
// the table, the projection's sentence under it.
func newLicenseHistoryCmd(f *clientFlags, s *scope) *cobra.Command {
	var q smartlic.HistoryQuery
	cmd := &cobra.Command{
		Use:   "history TAG [--va VA] [--days N]",
		Short: "Show a license type's daily purchased and in use, and when usage would exceed purchases at the current trend (-o table|json|csv)",
		Args:  args("TAG"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var h smartlic.LicenseHistory
			err := runReportIn(f, cmd, s.account, func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error) {
				var err error
				h, err = t.LicenseHistory(ctx, sa, argv[0], q)
				return h, h.Table(), err
			})
			if err == nil && f.output == "table" {
				_, err = fmt.Fprintln(f.e.stdout, "\n"+h.Projection.Summary())
			}
			return err
		},
	}
	cmd.Flags().StringVar(&q.VA, "va", "", "Virtual Account name or id, with every VA below it (default: the whole Smart Account)")
	cmd.Flags().IntVar(&q.Days, "days", smartlic.DefaultHistoryDays, "how many days, today included (2 to 366)")
	return cmd
}
