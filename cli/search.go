package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// addSearchCommand adds `smartlic search Q`.
func addSearchCommand(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	var q smartlic.SearchQuery
	cmd := &cobra.Command{
		Use:   "search Q",
		Short: "Find product instances, tokens and deposits by UDI, serial, host name, PID, description or order number",
		Long: "Search every Smart Account you can see (or one, with --account) for product instances whose UDI,\n" +
			"serial number, host name or PID contains Q, registration tokens whose description contains it and\n" +
			"deposits whose order number contains it. Matching ignores case.",
		Args: args("Q"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				q.Q = argv[0]
				if q.SA == "" && q.VA != "" {
					sa, err := f.account("")
					if err != nil {
						return err
					}
					q.SA = sa
				}
				res, err := a.Search(ctx, q)
				if err != nil || p.json {
					if err == nil {
						err = writeJSON(p.w, res)
					}
					return err
				}
				return printSearch(p, res)
			})
		},
	}
	cmd.Flags().StringVar(&q.SA, "account", "", "only this Smart Account (id or domain)")
	cmd.Flags().StringVar(&q.VA, "va", "", "only this Virtual Account (needs --account or "+envAccount+")")
	keepVA(cmd) // no --va: every VA the caller may see
	cmd.Flags().BoolVar(&q.Rollup, "rollup", false, "with --va: also every Virtual Account below it")
	cmd.Flags().StringVar(&q.License, "license", "", "only instances using this license type (tag); Q may then be \"\"")
	cmd.Flags().StringVar(&q.Kind, "kind", "", "only instances, tokens or deposits")
	cmd.Flags().IntVar(&q.Limit, "limit", 0, fmt.Sprintf("results of each kind (default %d, at most %d)", smartlic.DefaultSearchLimit, smartlic.MaxSearchLimit))
	f.register(cmd)
	root.AddCommand(cmd)
}

func printSearch(p printer, res smartlic.SearchResults) error {
	sections := []struct {
		title  string
		header []string
		rows   [][]string
		more   bool
	}{
		{title: "Product instances", header: []string{"ACCOUNT", "VIRTUAL ACCOUNT", "UDI", "HOSTNAME", "AUTHORIZATION", "ID"}, more: res.MoreInstances},
		{title: "Registration tokens", header: []string{"ACCOUNT", "VIRTUAL ACCOUNT", "DESCRIPTION", "EXPIRES", "USES", "ID"}, more: res.MoreTokens},
		{title: "Deposits", header: []string{"ACCOUNT", "VIRTUAL ACCOUNT", "ORDER", "LICENSE", "QUANTITY", "ID"}, more: res.MoreDeposits},
	}
	for _, h := range res.Instances {
		i := h.Instance
		sections[0].rows = append(sections[0].rows, []string{h.SmartAccount, h.VirtualAccount, i.UDI.String(), i.Hostname, human(i.Authorization), i.ID})
	}
	for _, h := range res.Tokens {
		t := h.Token
		sections[1].rows = append(sections[1].rows, []string{h.SmartAccount, h.VirtualAccount, t.Description, fmtTime(t.ExpiresAt), fmtInt(t.Uses), t.ID})
	}
	for _, h := range res.Deposits {
		d := h.Deposit
		sections[2].rows = append(sections[2].rows, []string{h.SmartAccount, h.VirtualAccount, d.OrderNumber, d.LicenseTag, fmtInt(d.Quantity), d.ID})
	}
	found := false
	for _, s := range sections {
		if len(s.rows) == 0 {
			continue
		}
		if found {
			fmt.Fprintln(p.w)
		}
		found = true
		fmt.Fprintln(p.w, s.title)
		if err := writeTable(p.w, s.header, s.rows); err != nil {
			return err
		}
		if s.more {
			fmt.Fprintln(p.w, "(more: narrow the search, or raise --limit)")
		}
	}
	if !found {
		fmt.Fprintln(p.w, "Nothing found.")
	}
	return nil
}
