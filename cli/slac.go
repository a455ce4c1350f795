package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var slacTable = table[smartlic.SLAC]{
	header: []string{"ID", "DEVICE", "LICENSE", "VIRTUAL ACCOUNT", "STATUS", "REQUESTED", "ISSUED", "RETURNED"},
	row: func(s smartlic.SLAC) []string {
		returned := fmtTimePtr(s.ReturnedAt)
		switch {
		case s.CancelReason != "":
			returned += " (cancelled: " + s.CancelReason + ")"
		case s.Returned != "":
			returned += " (" + string(s.Returned) + ")"
		}
		return []string{s.ID, s.UDI.String(), s.LicenseTag, s.VirtualAccount, string(s.Status), string(s.Requested), fmtTime(s.IssuedAt), returned}
	},
}

var exportControlTable = table[smartlic.ExportControl]{
	header: []string{"SMART ACCOUNT", "EXPORT-CONTROLLED", "CHANGED"},
	row: func(e smartlic.ExportControl) []string {
		state := "forbidden"
		if e.Allowed {
			state = "allowed"
		}
		return []string{e.SmartAccount, state, fmtTimePtr(e.UpdatedAt)}
	},
}

// addSLACCommands adds `smartlic slac …`: the Smart License Authorization
// Codes that let devices use export-controlled licenses.
func addSLACCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	var s scope
	var (
		pf     pageFlags
		va     string
		udi    string
		status string
	)
	list := &cobra.Command{
		Use:   "list [--va VA] [--udi PID:SN] [--status active|returned|cancelled]",
		Short: "List the SLACs of a Smart Account (or of one Virtual Account or device)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				filter := smartlic.SLACFilter{VA: va, Status: smartlic.SLACStatus(status)}
				if udi != "" {
					u, err := smartlic.ParseUDI("--udi", udi)
					if err != nil {
						return err
					}
					filter.UDI = &u
				}
				items, next, err := fetch(ctx, cmd, &pf, func(ctx context.Context, page smartlic.Page) ([]smartlic.SLAC, string, error) {
					return a.ListSLACs(ctx, sa, filter, page)
				})
				if err != nil {
					return err
				}
				return showList(f, p, items, next, slacTable)
			})
		},
	}
	list.Flags().StringVar(&va, "va", "", "only SLACs issued from this Virtual Account (default: every one you may see)")
	keepVA(list)
	list.Flags().StringVar(&udi, "udi", "", "only SLACs of this device (PID:SN)")
	list.Flags().StringVar(&status, "status", "", "only active, returned or cancelled SLACs")
	pf.register(list)

	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show one SLAC",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return showIn(f, cmd, s.account, slacTable, func(ctx context.Context, a api, sa string) (smartlic.SLAC, error) {
				return a.GetSLAC(ctx, sa, argv[0])
			})
		},
	}
	var in smartlic.SLACIssueInput
	issue := &cobra.Command{
		Use:   "issue --request CODE [--license TAG] [--va VA]",
		Short: "Issue a SLAC for a device's offline request code and print the authorization code",
		Example: "  smartlic slac issue --request SQ1-… --license hseck9\n" +
			"  smartlic device slac install SA1-…   # on the device",
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(in.RequestCode) == "" {
				return smartlic.Invalid("--request", "is required: the device's SLAC request code (smartlic device slac request TAG --offline)")
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				got, err := a.IssueSLAC(ctx, sa, in)
				if err != nil {
					return err
				}
				if err := printOne(p, got, slacTable); err != nil || p.json {
					return err
				}
				_, err = fmt.Fprintf(p.w, "\nSLAC authorization code (enter it on the device with \"slac install\"):\n%s\n", got.AuthorizationCode)
				return err
			})
		},
	}
	issue.Flags().StringVar(&in.RequestCode, "request", "", "the device's SLAC request code (SQ1-…)")
	issue.Flags().StringVar(&in.LicenseTag, "license", "", "the export-controlled license; checked against the one the code asks for")
	issue.Flags().StringVar(&in.VirtualAccount, "va", "", "Virtual Account whose license the SLAC holds (default: the device's own if registered, else DEFAULT)")

	var returnCode string
	ret := &cobra.Command{
		Use:   "return --code CODE",
		Short: "Enter a device's SLAC return code: the SLAC's license goes back to the pool",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(returnCode) == "" {
				return smartlic.Invalid("--code", "is required: the device's SLAC return code (smartlic device slac return TAG --offline)")
			}
			return showIn(f, cmd, s.account, slacTable, func(ctx context.Context, a api, sa string) (smartlic.SLAC, error) {
				return a.ReturnSLAC(ctx, sa, returnCode)
			})
		},
	}
	ret.Flags().StringVar(&returnCode, "code", "", "the device's SLAC return code (SR1-…)")

	var reason string
	cancel := &cobra.Command{
		Use:     "cancel ID --reason TEXT",
		Short:   "Cancel a SLAC without the device's return (administrators; the reason goes into the event log)",
		Example: "  smartlic slac cancel 0190… --reason \"router destroyed in a flood\"",
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if strings.TrimSpace(reason) == "" {
				return smartlic.Invalid("--reason", "is required: say why there is no return code (the device is lost or destroyed, say)")
			}
			return showIn(f, cmd, s.account, slacTable, func(ctx context.Context, a api, sa string) (smartlic.SLAC, error) {
				return a.CancelSLAC(ctx, sa, argv[0], reason)
			})
		},
	}
	cancel.Flags().StringVar(&reason, "reason", "", "why the SLAC is cancelled without the device's return")

	cmd := group("slac", "Smart License Authorization Codes: export-controlled licenses bound to a device's serial number", list, get, issue, ret, cancel)
	cmd.Long = `A SLAC (Smart License Authorization Code) lets one device use one
export-controlled license. The manager issues it only when the Smart Account
is allowed export-controlled functionality (smartlic account export-control)
and the Virtual Account has a license available; the SLAC holds that license
until the device returns it. A registered device asks online; an air-gapped
one prints a request code (smartlic device slac request TAG --offline) that
"slac issue" turns into an authorization code, and its return code
(smartlic device slac return TAG --offline) goes to "slac return". When the
device is lost or destroyed, an administrator cancels the SLAC instead
("slac cancel ID --reason TEXT"): its license goes back to the pool.`
	s.registerAccount(cmd)
	f.register(cmd)
	root.AddCommand(cmd)
}

// newAccountExportControlCmd is `smartlic account export-control SA
// [allowed|forbidden]`: show, or (vendor operator) change, whether the
// Smart Account may use export-controlled functionality.
func newAccountExportControlCmd(f *clientFlags) *cobra.Command {
	var listAll bool
	cmd := &cobra.Command{
		Use:   "export-control (SA [allowed|forbidden] | --list)",
		Short: "Show or set whether a Smart Account may use export-controlled functionality (setting it: vendor operator)",
		Example: "  smartlic account export-control acme.example allowed\n" +
			"  smartlic account export-control acme.example\n  smartlic account export-control --list",
		Args: func(cmd *cobra.Command, argv []string) error {
			switch {
			case listAll && len(argv) == 0:
				return nil
			case listAll:
				return smartlic.Invalid("--list", "lists every Smart Account allowed; give no SA with it")
			case len(argv) == 1:
				return nil
			case len(argv) == 2 && (argv[1] == "allowed" || argv[1] == "forbidden"):
				return nil
			case len(argv) == 2:
				return smartlic.Invalid("setting", "must be allowed or forbidden (got %q)", argv[1])
			}
			return smartlic.Invalid("", "usage: %s", cmd.UseLine())
		},
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				if listAll {
					items, err := a.ListExportControls(ctx)
					if err != nil {
						return err
					}
					return printList(p, items, "", exportControlTable)
				}
				var got smartlic.ExportControl
				var err error
				if len(argv) == 2 {
					got, err = a.SetExportControl(ctx, argv[0], argv[1] == "allowed")
				} else {
					got, err = a.GetExportControl(ctx, argv[0])
				}
				if err != nil {
					return err
				}
				return printOne(p, got, exportControlTable)
			})
		},
	}
	cmd.Flags().BoolVar(&listAll, "list", false, "list the Smart Accounts allowed export-controlled functionality")
	return cmd
}
