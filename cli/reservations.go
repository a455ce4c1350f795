package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var reservationTable = table[smartlic.Reservation]{
	header: []string{"ID", "UDI", "VA", "KIND", "STATUS", "LICENSES", "AUTH", "CONFIRMED", "UPDATED"},
	row: func(r smartlic.Reservation) []string {
		return []string{r.ID, r.UDI.String(), r.VirtualAccount, string(r.Kind), string(r.Status), reservedLicenses(r),
			fmtInt(r.Sequence), fmtInt(r.Confirmed), fmtTime(r.UpdatedAt)}
	},
}

func reservedLicenses(r smartlic.Reservation) string {
	if r.Kind == smartlic.ReservationPermanent {
		return "all (permanent)"
	}
	parts := make([]string, len(r.Licenses))
	for i, l := range r.Licenses {
		parts[i] = l.LicenseTag + "=" + fmtInt(l.Quantity)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// addReservationCommands adds "reservation".
func addReservationCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	noun := newReservationCmd(f)
	f.register(noun)
	root.AddCommand(noun)
}

func newReservationCmd(f *clientFlags) *cobra.Command {
	var s scope
	var flt smartlic.ReservationFilter
	list := newListInCmd(f, &s, "List the Smart Account's reservations (--udi PID:SN or a prefix, --status open|closed|…)", reservationTable,
		func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.Reservation, string, error) {
			return a.ListReservations(ctx, sa, flt, p)
		})
	list.Flags().StringVar(&flt.UDI, "udi", "", "only this UDI (PID:SN), or UDIs starting with it")
	list.Flags().StringVar(&flt.Status, "status", "", "open, closed, authorized, updating, installed, returned or cancelled")
	cmd := group("reservation", "Reserve licenses for air-gapped product instances (SLR and PLR) with request and authorization codes",
		newReservationCreateCmd(f, &s),
		newReservationUpdateCmd(f, &s),
		newReservationCodeCmd(f, &s, "return", "Enter a device's return code: the reservation's licenses go back to the pool",
			func(ctx context.Context, a api, sa, code string) (smartlic.Reservation, error) {
				return a.ReturnReservation(ctx, sa, code)
			}),
		newReservationCodeCmd(f, &s, "confirm", "Enter a device's confirmation code: quantities held for older codes go back to the pool",
			func(ctx context.Context, a api, sa, code string) (smartlic.Reservation, error) {
				return a.ConfirmReservation(ctx, sa, code)
			}),
		newReservationCancelCmd(f, &s),
		list,
		newGetCmd(f, "ID", "Show one reservation and its latest authorization code", reservationTable,
			func(ctx context.Context, a api, id string) (smartlic.Reservation, error) {
				sa, err := f.account(s.account)
				if err != nil {
					return smartlic.Reservation{}, err
				}
				return a.GetReservation(ctx, sa, id)
			}),
		newReservationPermanentCmd(f, &s),
	)
	cmd.Long = `Reserve licenses for a product instance that never talks to the manager:

  smartlic device license smart reservation request          # on the device: a request code
  smartlic reservation create --request RQ1-… --license network-advantage=2
                                                             # prints the authorization code
  smartlic device license smart reservation install RA1-…    # on the device: a confirmation code
  smartlic reservation confirm --code RC1-…
  smartlic device license smart reservation return           # on the device: a return code
  smartlic reservation return --code RR1-…                   # the licenses are back`
	s.registerAccount(cmd)
	return cmd
}

// parseLicenseFlags reads --license TAG=N flags.
func parseLicenseFlags(flags []string) ([]smartlic.LicenseRequest, error) {
	var out []smartlic.LicenseRequest
	for _, f := range flags {
		tag, n, ok := strings.Cut(f, "=")
		q, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if !ok || strings.TrimSpace(tag) == "" || err != nil {
			return nil, smartlic.Invalid("--license", "must be TAG=N, a license type tag and a quantity (got %q)", f)
		}
		out = append(out, smartlic.LicenseRequest{Tag: strings.TrimSpace(tag), Quantity: q})
	}
	return out, nil
}

// showReservation prints a reservation and, in table mode, its
// authorization code on a line of its own, ready to copy.
func showReservation(p printer, r smartlic.Reservation, withCode bool) error {
	if err := printOne(p, r, reservationTable); err != nil || p.json || !withCode {
		return err
	}
	_, err := fmt.Fprintf(p.w, "\nAuthorization code %d (enter it on the device with \"reservation install\"):\n%s\n", r.Sequence, r.AuthorizationCode)
	return err
}

func newReservationCreateCmd(f *clientFlags, s *scope) *cobra.Command {
	var (
		in       smartlic.ReservationInput
		licenses []string
	)
	cmd := &cobra.Command{
		Use:   "create --request CODE (--license TAG=N... | --permanent) [--va VA]",
		Short: "Reserve licenses for a device's request code and print the authorization code",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(in.RequestCode) == "" {
				return smartlic.Invalid("--request", "is required: the device's request code (smartlic device license smart reservation request)")
			}
			var err error
			if in.Licenses, err = parseLicenseFlags(licenses); err != nil {
				return err
			}
			if len(in.Licenses) == 0 && !in.Permanent {
				return smartlic.Invalid("--license", "is required: TAG=N for each license type to reserve (or --permanent)")
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				r, err := a.CreateReservation(ctx, sa, in)
				if err != nil {
					return err
				}
				return showReservation(p, r, true)
			})
		},
	}
	cmd.Flags().StringVar(&in.RequestCode, "request", "", "the device's request code (RQ1-…)")
	cmd.Flags().StringArrayVar(&licenses, "license", nil, "TAG=N: license type and quantity to reserve (repeat for several)")
	cmd.Flags().BoolVar(&in.Permanent, "permanent", false, "Permanent License Reservation: every license the product supports (if the vendor enabled it)")
	cmd.Flags().StringVar(&in.VirtualAccount, "va", smartlic.DefaultVAName, "Virtual Account whose pool the licenses come from")
	return cmd
}

func newReservationUpdateCmd(f *clientFlags, s *scope) *cobra.Command {
	var licenses []string
	cmd := &cobra.Command{
		Use:   "update ID --license TAG=N...",
		Short: "Issue a new authorization code with new quantities (old ones held until the device confirms)",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			lines, err := parseLicenseFlags(licenses)
			if err != nil {
				return err
			}
			if len(lines) == 0 {
				return smartlic.Invalid("--license", "is required: TAG=N for each license type the device keeps")
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				r, err := a.UpdateReservation(ctx, sa, argv[0], lines)
				if err != nil {
					return err
				}
				return showReservation(p, r, true)
			})
		},
	}
	cmd.Flags().StringArrayVar(&licenses, "license", nil, "TAG=N: license type and quantity (repeat for several); replaces the list")
	return cmd
}

func newReservationCodeCmd(f *clientFlags, s *scope, verb, short string, call func(ctx context.Context, a api, sa, code string) (smartlic.Reservation, error)) *cobra.Command {
	var code string
	cmd := &cobra.Command{
		Use:   verb + " --code CODE",
		Short: short,
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(code) == "" {
				return smartlic.Invalid("--code", "is required: the code the device printed")
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				r, err := call(ctx, a, sa, code)
				if err != nil {
					return err
				}
				return showReservation(p, r, false)
			})
		},
	}
	cmd.Flags().StringVar(&code, "code", "", "the device's code")
	return cmd
}

func newReservationCancelCmd(f *clientFlags, s *scope) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel ID --reason TEXT",
		Short: "Cancel a reservation without a return code (administrators; the reason goes into the event log)",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if strings.TrimSpace(reason) == "" {
				return smartlic.Invalid("--reason", "is required: say why there is no return code (the device is lost, say)")
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				r, err := a.CancelReservation(ctx, sa, argv[0], reason)
				if err != nil {
					return err
				}
				return showReservation(p, r, false)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the reservation is cancelled without a return code")
	return cmd
}

// newReservationPermanentCmd is the vendor's switch for PLR.
func newReservationPermanentCmd(f *clientFlags, s *scope) *cobra.Command {
	var product, account string
	settings := table[smartlic.ReservationSettings]{header: []string{"SUBJECT", "PERMANENT"}}
	subject := func() (string, error) {
		if product != "" {
			if s.account != "" {
				return "", smartlic.Invalid("--product", "give either --product PID or --account SA, not both")
			}
			return "product " + product, nil
		}
		var err error
		if account, err = f.account(s.account); err != nil {
			return "", err
		}
		return "Smart Account " + account, nil
	}
	verb := func(use, short string, set *bool) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " (--product PID | --account SA)",
			Short: short,
			Args:  args(),
			RunE: func(cmd *cobra.Command, _ []string) error {
				who, err := subject()
				if err != nil {
					return err
				}
				return f.run(cmd, func(ctx context.Context, a api, p printer) error {
					var s smartlic.ReservationSettings
					switch {
					case set != nil && product != "":
						s, err = a.SetReservationSettingsOfProduct(ctx, product, smartlic.ReservationSettings{Permanent: *set})
					case set != nil:
						s, err = a.SetReservationSettingsOfAccount(ctx, account, smartlic.ReservationSettings{Permanent: *set})
					case product != "":
						s, err = a.ReservationSettingsOfProduct(ctx, product)
					default:
						s, err = a.ReservationSettingsOfAccount(ctx, account)
					}
					if err != nil {
						return err
					}
					settings.row = func(s smartlic.ReservationSettings) []string { return []string{who, yesNo(s.Permanent)} }
					return printOne(p, s, settings)
				})
			},
		}
		c.Flags().StringVar(&product, "product", "", "product ID (or --account SA)")
		return c
	}
	on, off := true, false
	return group("permanent", "Permanent License Reservation: the vendor enables it per product and Smart Account",
		verb("enable", "Allow PLR (vendor operator)", &on),
		verb("disable", "Stop allowing new PLRs (vendor operator)", &off),
		verb("show", "Whether PLR is allowed", nil),
	)
}
