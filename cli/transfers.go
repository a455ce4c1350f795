package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// transferAPI is what the transfer, agreement and report commands call;
// the API client implements it beside the base services.
type transferAPI interface {
	smartlic.TransferService
	smartlic.ReportService
	smartlic.HistoryService
}

func transfers(a api) (transferAPI, error) { return a, nil }

var transferTable = table[smartlic.Transfer]{
	header: []string{"ID", "KIND", "FROM", "TO", "LICENSE", "QUANTITY", "CREATED", "BY"},
	row: func(t smartlic.Transfer) []string {
		return []string{t.ID, t.Kind, t.FromName, t.ToName, t.LicenseTag, fmtInt(t.Quantity), fmtTime(t.CreatedAt), t.ActorEmail}
	},
}

var agreementTable = table[smartlic.Agreement]{
	header: []string{"NUMBER", "STARTS", "ENDS", "LICENSES", "ACCEPTED", "ID"},
	row: func(a smartlic.Agreement) []string {
		var lines []string
		for _, l := range a.Lines {
			lines = append(lines, l.LicenseTag+"="+fmtInt(l.Quantity))
		}
		accepted := "-"
		if a.AcceptedAt != nil {
			accepted = fmtDate(a.AcceptedAt) + " by " + a.AcceptedBy
		}
		return []string{a.Number, fmtDate(&a.StartsAt), fmtDate(&a.EndsAt), strings.Join(lines, ","), accepted, a.ID}
	},
}

// addTransferCommands adds "transfer" and "agreement".
func addTransferCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	for _, noun := range []*cobra.Command{newTransferCmd(f), newAgreementCmd(f)} {
		f.register(noun)
		root.AddCommand(noun)
	}
}

func newTransferCmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("transfer", "Move licenses or product instances between Virtual Accounts",
		newTransferLicensesCmd(f, &s),
		newTransferInstancesCmd(f, &s),
		newListInCmd(f, &s, "List the Smart Account's transfers", transferTable,
			func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.Transfer, string, error) {
				t, err := transfers(a)
				if err != nil {
					return nil, "", err
				}
				return t.ListTransfers(ctx, sa, p)
			}),
	)
	s.registerAccount(cmd)
	return cmd
}

// doTransfer sends one transfer and shows it.
func doTransfer(cmd *cobra.Command, f *clientFlags, s *scope, in smartlic.TransferInput) error {
	if in.From == "" {
		return smartlic.Invalid("--from", "is required")
	}
	if in.To == "" {
		return smartlic.Invalid("--to", "is required")
	}
	return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
		t, err := transfers(a)
		if err != nil {
			return err
		}
		got, err := t.Transfer(ctx, sa, in)
		if err != nil {
			return err
		}
		return printOne(p, got, transferTable)
	})
}

func newTransferLicensesCmd(f *clientFlags, s *scope) *cobra.Command {
	var in smartlic.TransferInput
	cmd := &cobra.Command{
		Use:   "licenses --from VA --to VA --license TAG --quantity N [--deposit ID]",
		Short: "Move available licenses of one type (the lots ending first go first)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.License == "" {
				return smartlic.Invalid("--license", "is required")
			}
			if in.Quantity < 1 {
				return smartlic.Invalid("--quantity", "must be at least 1 (got %d)", in.Quantity)
			}
			return doTransfer(cmd, f, s, in)
		},
	}
	cmd.Flags().StringVar(&in.From, "from", "", "source Virtual Account")
	cmd.Flags().StringVar(&in.To, "to", "", "destination Virtual Account")
	cmd.Flags().StringVar(&in.License, "license", "", "license type tag")
	cmd.Flags().Int64Var(&in.Quantity, "quantity", 0, "number of licenses")
	cmd.Flags().StringVar(&in.Deposit, "deposit", "", "take them from this deposit only")
	return cmd
}

func newTransferInstancesCmd(f *clientFlags, s *scope) *cobra.Command {
	var in smartlic.TransferInput
	cmd := &cobra.Command{
		Use:   "instances --from VA --to VA ID|UDI...",
		Short: "Move product instances, with the licenses they use",
		Args: func(cmd *cobra.Command, argv []string) error {
			if len(argv) == 0 {
				return smartlic.Invalid("ID|UDI", "is required: usage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, argv []string) error {
			in.Instances = argv
			return doTransfer(cmd, f, s, in)
		},
	}
	cmd.Flags().StringVar(&in.From, "from", "", "source Virtual Account")
	cmd.Flags().StringVar(&in.To, "to", "", "destination Virtual Account")
	return cmd
}

func newAgreementCmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("agreement", "Enterprise Agreements: a suite of licenses for a term, overage measured",
		newAgreementCreateCmd(f, &s),
		newListInCmd(f, &s, "List a Virtual Account's agreements", agreementTable,
			func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.Agreement, string, error) {
				t, err := transfers(a)
				if err != nil {
					return nil, "", err
				}
				return t.ListAgreements(ctx, sa, s.va, p)
			}),
		&cobra.Command{
			Use:   "accept ID",
			Short: "Accept an agreement's terms for the Smart Account (SA approver or administrator)",
			Args:  args("ID"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
					t, err := transfers(a)
					if err != nil {
						return err
					}
					got, err := t.AcceptAgreement(ctx, sa, argv[0])
					if err != nil {
						return err
					}
					return printOne(p, got, agreementTable)
				})
			},
		},
		&cobra.Command{
			Use:   "true-forward ID",
			Short: "Peak consumption above purchased per license type over the agreement's term (-o table|json|csv)",
			Args:  args("ID"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return runReportIn(f, cmd, s.account, func(ctx context.Context, t transferAPI, sa string) (any, smartlic.Table, error) {
					r, err := t.TrueForward(ctx, sa, argv[0])
					return r, r.Table(), err
				})
			},
		},
	)
	s.registerAccount(cmd)
	s.registerVA(cmd)
	return cmd
}

func newAgreementCreateCmd(f *clientFlags, s *scope) *cobra.Command {
	var (
		in           smartlic.AgreementInput
		starts, ends string
		lines        []string
	)
	cmd := &cobra.Command{
		Use:   "create --number N --ends DATE [--starts DATE] --license TAG=QUANTITY...",
		Short: "Deposit an Enterprise Agreement's suite into the Virtual Account",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if in.StartsAt, err = parseDate("--starts", starts); err != nil {
				return err
			}
			end, err := parseDate("--ends", ends)
			if err != nil {
				return err
			}
			if end == nil {
				return smartlic.Invalid("--ends", "is required")
			}
			in.EndsAt = *end
			if len(lines) == 0 {
				return smartlic.Invalid("--license", "name at least one license type: --license TAG=QUANTITY")
			}
			in.Lines = nil
			for _, l := range lines {
				tag, q, ok := strings.Cut(l, "=")
				n, err := strconv.ParseInt(q, 10, 64)
				if !ok || tag == "" || err != nil {
					return smartlic.Invalid("--license", "must be TAG=QUANTITY, e.g. network-advantage=100 (got %q)", l)
				}
				in.Lines = append(in.Lines, smartlic.AgreementLine{LicenseTag: tag, Quantity: n})
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				t, err := transfers(a)
				if err != nil {
					return err
				}
				got, err := t.CreateAgreement(ctx, sa, s.va, in)
				if err != nil {
					return err
				}
				return printOne(p, got, agreementTable)
			})
		},
	}
	cmd.Flags().StringVar(&in.Number, "number", "", "agreement number")
	cmd.Flags().StringVar(&starts, "starts", "", "start of the term, YYYY-MM-DD or RFC 3339 (default: now)")
	cmd.Flags().StringVar(&ends, "ends", "", "end of the term, YYYY-MM-DD or RFC 3339")
	cmd.Flags().StringArrayVar(&lines, "license", nil, "a license type of the suite and its count, TAG=QUANTITY (repeat)")
	return cmd
}
